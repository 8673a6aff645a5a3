// Under CI, a spec that skips (for a missing environment, say) fails the run: a skipped
// test proves nothing, and a green run must mean every spec ran.
export default class StrictReporter {
  constructor() { this.skipped = []; }
  onTestEnd(test, result) {
    if (result.status === 'skipped') this.skipped.push(test.titlePath().join(' › '));
  }
  onEnd() {
    if (!process.env.CI || this.skipped.length === 0) return;
    console.error(`\n${this.skipped.length} spec(s) skipped under CI, which counts as a failure:`);
    for (const t of this.skipped) console.error(`  - ${t}`);
    return { status: 'failed' };
  }
}
