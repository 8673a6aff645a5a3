//! The event catalog: every event type Herald knows, with a description for people, a JSON
//! schema of its `data` object and a realistic sample payload (used by "send test event").
//!
//! The built-in types ship with Herald (this file): each resource has one base sample, events
//! override or add a few fields, and every schema is derived from its sample so the two can never
//! disagree. The platform adds its own types at run time (see [`crate::event_types`]); a
//! [`Catalog`] is one snapshot of both, which [`crate::Herald::catalog`] hands out without a
//! database round trip.

use std::sync::OnceLock;

use serde_json::{json, Map, Value};

pub(crate) const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

#[derive(Clone, Debug, serde::Serialize)]
pub struct EventType {
    pub name: String,
    /// The name's first segment (`appointment` for `appointment.booking.created`).
    pub resource: String,
    pub description: String,
    pub schema: Value,
    pub sample: Value,
    /// Defined by the platform at run time, not shipped with Herald.
    pub custom: bool,
    /// Hidden from new subscriptions; still accepted and delivered to endpoints that have it.
    pub deprecated: bool,
    /// Custom types: whether `schema` was given (otherwise it is derived from the sample).
    pub schema_given: bool,
    /// Custom types: when it was created and last changed (epoch ms).
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
}

/// The resources in catalog order, with their human labels (an event's resource is the first
/// segment of its name).
const RESOURCES: &[(&str, &str)] = &[
    ("appointment", "Appointments"),
    ("event", "Group events"),
    ("class", "Classes & schedules"),
    ("customer", "Customers & guests"),
    ("invoice", "Invoices"),
    ("membership", "Memberships"),
    ("package", "Packages"),
    ("booking", "Bookings"),
    ("account", "Accounts"),
    ("contact", "Contacts"),
    ("employee", "Employees"),
    ("activity", "Activities"),
    ("product", "Products"),
    ("inventory", "Inventory"),
];

/// The built-in event types, grouped by resource in catalog order.
pub fn builtin() -> &'static [EventType] {
    static ALL: OnceLock<Vec<EventType>> = OnceLock::new();
    ALL.get_or_init(build)
}

/// One snapshot of the whole catalog: the built-in types, then the platform's own (by name).
/// Cheap to share (`Arc<Catalog>`); a change makes a new one.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    custom: Vec<EventType>,
    /// The database's catalog version this snapshot was read at (see `crate::event_types`).
    pub(crate) version: i64,
}

impl Catalog {
    pub(crate) fn new(mut custom: Vec<EventType>, version: i64) -> Catalog {
        custom.sort_by(|a, b| a.name.cmp(&b.name));
        Catalog { custom, version }
    }

    /// Every type, built-in ones first in catalog order, deprecated ones included.
    pub fn iter(&self) -> impl Iterator<Item = &EventType> {
        builtin().iter().chain(self.custom.iter())
    }

    /// The platform's own types, by name.
    pub fn custom(&self) -> &[EventType] {
        &self.custom
    }

    pub fn len(&self) -> usize {
        builtin().len() + self.custom.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Looks up an event type by its canonical name.
    pub fn find(&self, name: &str) -> Option<&EventType> {
        self.iter().find(|e| e.name == name)
    }

    /// Looks up an event type by its name or one of the built-in [`ALIASES`].
    pub fn resolve(&self, name: &str) -> Option<&EventType> {
        self.find(name).or_else(|| alias_target(name).and_then(|canonical| self.find(canonical)))
    }

    /// The resources in catalog order with a human label, e.g. `("appointment", "Appointments")`;
    /// resources only custom types use come last, labelled after their name.
    pub fn resources(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = RESOURCES.iter().map(|(r, l)| (r.to_string(), l.to_string())).collect();
        for t in &self.custom {
            if !out.iter().any(|(r, _)| *r == t.resource) {
                out.push((t.resource.clone(), resource_label(&t.resource)));
            }
        }
        out
    }
}

/// `gift_card` → "Gift card": a label for a resource Herald does not ship.
fn resource_label(resource: &str) -> String {
    let words = resource.replace('_', " ");
    let mut chars = words.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The envelope an endpoint would receive for `event`'s sample data.
pub fn sample_envelope(event: &EventType, tenant_id: &str) -> Value {
    envelope("msg_2fJk9QzT1xV8mN4bR6cW3a", "evt-10293", &event.name, "2026-03-14T09:30:00Z", tenant_id, event.sample.clone())
}

/// Whether events of this type name the service they are for (`data.service_id`), as
/// ReserveKit's do: the endpoint form then offers a per-service filter.
pub fn names_a_service(event: &EventType) -> bool {
    event.sample.get("service_id").is_some()
}

/// Names that ingest and subscriptions still accept, each with the event type it stands for:
/// Herald's own earlier names for Calenso's events (deprecated; migration 0011 rewrote stored
/// subscriptions) and ReserveKit's names for its booking events.
pub const ALIASES: &[(&str, &str)] = &[
    ("appointment.manual_booking.created", "appointment.manual.booking.created"),
    ("appointment.rebooked", "appointment.booking.rebooked"),
    ("class.booking.created", "event.booking.created"),
    ("class.booking.cancelled", "event.booking.cancelled"),
    ("class.manual_booking.created", "event.manual.booking.created"),
    ("class.booking.rebooked", "event.booking.rebooked"),
    ("bookings.create", "booking.created"),
    ("bookings.update", "booking.amended"),
    ("bookings.delete", "booking.deleted"),
];

/// The catalog name an alias stands for.
pub fn alias_target(alias: &str) -> Option<&'static str> {
    ALIASES.iter().find(|(a, _)| *a == alias).map(|(_, canonical)| *canonical)
}

/// The other names ingest accepts for `name`.
pub fn aliases_of(name: &str) -> Vec<&'static str> {
    ALIASES.iter().filter(|(_, to)| *to == name).map(|(alias, _)| *alias).collect()
}

/// The schema shown for a sample whose type gave none: derived from it, like the built-ins'.
pub(crate) fn derived_schema(name: &str, sample: &Value) -> Value {
    let mut schema = schema_of(sample);
    if let Value::Object(map) = &mut schema {
        map.insert("$schema".into(), json!(DRAFT));
        map.insert("title".into(), json!(name));
    }
    schema
}

type Events = Vec<(&'static str, &'static str, Value)>;

fn build() -> Vec<EventType> {
    let groups = [
        appointments(),
        classes(),
        customers(),
        invoices(),
        memberships(),
        packages(),
        bookings(),
        accounts(),
        contacts(),
        employees(),
        activities(),
        products(),
        inventory(),
    ];
    let mut all = Vec::with_capacity(59);
    for events in groups {
        for (name, description, sample) in events {
            // The resource is the name's first segment: Calenso's group-event bookings
            // (`event.booking.*`) come with the classes but are resource `event`.
            let resource = RESOURCES.iter().map(|(r, _)| *r).find(|r| name.strip_prefix(r).is_some_and(|rest| rest.starts_with('.')));
            let resource = resource.unwrap_or_else(|| panic!("{name} has no resource in RESOURCES"));
            all.push(EventType {
                name: name.to_string(),
                resource: resource.to_string(),
                description: description.to_string(),
                schema: derived_schema(name, &sample),
                sample,
                custom: false,
                deprecated: false,
                schema_given: false,
                created_at: None,
                updated_at: None,
            });
        }
    }
    all
}

fn customer_ref() -> Value {
    json!({
        "id": "cus_3m9qa", "name": "Sophie Martin",
        "email": "sophie.martin@example.com", "phone": "+4915123456789",
    })
}

fn location_ref() -> Value {
    json!({ "id": "loc_2p6wd", "name": "Lumière Hair & Spa Berlin-Mitte" })
}

fn appointments() -> Events {
    let base = json!({
        "id": "apt_8f2k1", "reference": "LM-20417", "status": "booked", "source": "online",
        "start_at": "2026-03-14T09:30:00Z", "end_at": "2026-03-14T10:30:00Z",
        "customer": customer_ref(), "location": location_ref(),
        "service": { "id": "svc_71hd2", "name": "Balayage & blow-dry", "duration_minutes": 60 },
        "employee": { "id": "emp_4t8zn", "name": "Lena Fischer" },
        "price": 8500, "currency": "EUR", "notes": "Prefers a seat by the window.",
        "created_at": "2026-03-10T18:04:12Z", "updated_at": "2026-03-10T18:04:12Z",
    });
    let group = |status: &str| {
        json!({ "group": {
        "id": "agr_6v2mq", "name": "Bridal party", "status": status, "size": 3,
        "appointment_ids": ["apt_8f2k1", "apt_8f2k2", "apt_8f2k3"],
    } })
    };
    vec![
        ("appointment.booking.created", "A client booked an appointment online.", base.clone()),
        (
            "appointment.booking.cancelled",
            "An appointment was cancelled by the client or by the business.",
            with(
                &base,
                json!({
                    "status": "cancelled", "cancelled_at": "2026-03-12T07:15:40Z", "cancelled_by": "customer",
                    "cancellation_reason": "Feeling unwell, will rebook next week.", "updated_at": "2026-03-12T07:15:40Z",
                }),
            ),
        ),
        (
            "appointment.updated",
            "An appointment's time, service, staff member or notes changed.",
            with(
                &base,
                json!({
                    "start_at": "2026-03-14T11:00:00Z", "end_at": "2026-03-14T12:00:00Z", "updated_at": "2026-03-11T09:02:55Z",
                    "previous": { "start_at": "2026-03-14T09:30:00Z", "end_at": "2026-03-14T10:30:00Z" },
                }),
            ),
        ),
        (
            "appointment.manual.booking.created",
            "A staff member booked an appointment on behalf of a client.",
            with(
                &base,
                json!({
                    "source": "staff", "booked_by": { "id": "emp_9a1kc", "name": "Marco Rossi" },
                }),
            ),
        ),
        (
            "appointment.booking.rebooked",
            "An appointment was moved to another time by the client or the business; the previous time is in rebooked_from.",
            with(
                &base,
                json!({
                    "id": "apt_9g3m4", "reference": "LM-20533",
                    "start_at": "2026-04-11T09:30:00Z", "end_at": "2026-04-11T10:30:00Z",
                    "created_at": "2026-03-14T10:41:08Z", "updated_at": "2026-03-14T10:41:08Z",
                    "rebooked_from": { "id": "apt_8f2k1", "start_at": "2026-03-14T09:30:00Z" },
                }),
            ),
        ),
        (
            "appointment.started",
            "A client arrived and their appointment started.",
            with(
                &base,
                json!({
                    "status": "in_progress", "started_at": "2026-03-14T09:32:10Z", "updated_at": "2026-03-14T09:32:10Z",
                }),
            ),
        ),
        (
            "appointment.completed",
            "An appointment was finished and marked as completed.",
            with(
                &base,
                json!({
                    "status": "completed", "started_at": "2026-03-14T09:32:10Z", "completed_at": "2026-03-14T10:34:47Z",
                    "invoice_id": "inv_7q2wb", "updated_at": "2026-03-14T10:34:47Z",
                }),
            ),
        ),
        (
            "appointment.feedback.created",
            "A client left a rating and review after their appointment.",
            with(
                &base,
                json!({
                    "status": "completed", "feedback": {
                        "id": "fbk_1x7pe", "rating": 5, "submitted_at": "2026-03-14T17:20:03Z",
                        "comment": "Lena was wonderful, the colour is exactly what I wanted.",
                    },
                }),
            ),
        ),
        (
            "appointment.group.created",
            "Several appointments were booked together as one group, such as a bridal party.",
            with(&base, group("pending")),
        ),
        (
            "appointment.group.status_changed",
            "The status of a group of appointments changed, for example to confirmed.",
            with(&base, with(&group("confirmed"), json!({ "group": { "previous_status": "pending" } }))),
        ),
    ]
}

fn classes() -> Events {
    let instructor = json!({ "id": "emp_2c5yv", "name": "Ana Costa" });
    let booking = json!({
        "id": "cbk_9d3ls", "status": "confirmed", "source": "online", "spots": 1,
        "customer": customer_ref(), "price": 1800, "currency": "EUR",
        "class": {
            "id": "cls_5k2rt", "name": "Vinyasa Flow",
            "start_at": "2026-03-16T17:30:00Z", "end_at": "2026-03-16T18:45:00Z",
            "instructor": instructor, "location": location_ref(),
        },
        "created_at": "2026-03-13T20:11:36Z", "updated_at": "2026-03-13T20:11:36Z",
    });
    let schedule = json!({
        "id": "cls_5k2rt", "name": "Vinyasa Flow", "status": "scheduled", "category": "Yoga",
        "start_at": "2026-03-16T17:30:00Z", "end_at": "2026-03-16T18:45:00Z", "recurrence": "weekly",
        "instructor": instructor, "location": location_ref(), "room": "Studio 2",
        "capacity": 14, "booked": 9, "waitlist": 2, "price": 1800, "currency": "EUR",
        "created_at": "2026-02-20T10:00:00Z", "updated_at": "2026-02-20T10:00:00Z",
    });
    let staff = json!({ "id": "emp_9a1kc", "name": "Marco Rossi" });
    vec![
        ("event.booking.created", "A client booked a spot in a class or group event online.", booking.clone()),
        (
            "event.booking.cancelled",
            "A client's booking for a class or group event was cancelled.",
            with(
                &booking,
                json!({
                    "status": "cancelled", "cancelled_at": "2026-03-15T08:03:19Z", "late_cancellation": false,
                    "cancellation_reason": "Travelling for work.",
                }),
            ),
        ),
        (
            "event.manual.booking.created",
            "A staff member booked a client into a class or group event.",
            with(
                &booking,
                json!({
                    "source": "staff", "booked_by": staff,
                }),
            ),
        ),
        (
            "event.booking.rebooked",
            "A class or group event booking was moved to another session.",
            with(
                &booking,
                json!({
                    "class": { "start_at": "2026-03-23T17:30:00Z", "end_at": "2026-03-23T18:45:00Z" },
                    "rebooked_from": { "class_id": "cls_5k2rt", "start_at": "2026-03-16T17:30:00Z" },
                }),
            ),
        ),
        (
            "class.booking.approved",
            "A class booking that was waiting for approval was accepted.",
            with(
                &booking,
                json!({
                    "approved_at": "2026-03-14T09:12:00Z", "approved_by": staff,
                }),
            ),
        ),
        (
            "class.booking.rejected",
            "A class booking that was waiting for approval was declined.",
            with(
                &booking,
                json!({
                    "status": "rejected", "rejected_at": "2026-03-14T09:12:00Z", "rejected_by": staff,
                    "rejection_reason": "This class is reserved for members.",
                }),
            ),
        ),
        (
            "class.booking.deleted",
            "A class booking was deleted.",
            with(
                &booking,
                json!({
                    "status": "deleted", "deleted_at": "2026-03-14T11:45:27Z",
                }),
            ),
        ),
        (
            "class.booking.no_show",
            "A client was marked as not showing up for a class.",
            with(
                &booking,
                json!({
                    "status": "no_show", "marked_at": "2026-03-16T18:50:02Z", "no_show_fee": 1000,
                }),
            ),
        ),
        (
            "class.schedule.created",
            "A new class or group event was added to the schedule.",
            with(
                &schedule,
                json!({
                    "booked": 0, "waitlist": 0,
                }),
            ),
        ),
        (
            "class.schedule.updated",
            "A scheduled class's time, instructor, room or capacity changed.",
            with(
                &schedule,
                json!({
                    "capacity": 16, "room": "Studio 1", "updated_at": "2026-03-12T14:26:51Z",
                    "previous": { "capacity": 14, "room": "Studio 2" },
                }),
            ),
        ),
        (
            "class.schedule.cancelled",
            "A scheduled class was cancelled.",
            with(
                &schedule,
                json!({
                    "status": "cancelled", "cancelled_at": "2026-03-16T12:05:00Z", "affected_bookings": 9,
                    "cancellation_reason": "Instructor is unwell.",
                }),
            ),
        ),
        (
            "class.schedule.deleted",
            "A class was removed from the schedule.",
            with(
                &schedule,
                json!({
                    "status": "deleted", "deleted_at": "2026-03-16T12:07:31Z",
                }),
            ),
        ),
    ]
}

fn customers() -> Events {
    let base = json!({
        "id": "cus_3m9qa", "first_name": "Sophie", "last_name": "Martin",
        "email": "sophie.martin@example.com", "phone": "+4915123456789", "birthday": "1991-06-02",
        "marketing_consent": true, "tags": ["vip", "colour"], "preferred_location": location_ref(),
        "address": { "line1": "Torstraße 112", "city": "Berlin", "postal_code": "10119", "country": "DE" },
        "created_at": "2025-11-02T15:47:09Z", "updated_at": "2025-11-02T15:47:09Z",
    });
    vec![
        ("customer.created", "A new client profile was created.", base.clone()),
        (
            "customer.updated",
            "A client's profile details changed.",
            with(
                &base,
                json!({
                    "phone": "+4917698765432", "updated_at": "2026-03-10T18:01:44Z", "changed_fields": ["phone"],
                }),
            ),
        ),
        ("customer.deleted", "A client profile was deleted.", with(&base, json!({ "deleted_at": "2026-03-20T08:00:00Z" }))),
    ]
}

fn invoices() -> Events {
    let line = |kind: &str, description: &str, price: i64| {
        json!({
            "kind": kind, "description": description, "quantity": 1, "unit_price": price, "tax_rate": 0.19, "total": price,
        })
    };
    let sample = json!({
        "id": "inv_7q2wb", "number": "2026-000418", "status": "closed",
        "customer": customer_ref(), "location": location_ref(), "appointment_id": "apt_8f2k1",
        "lines": [
            line("service", "Balayage & blow-dry", 8500),
            line("product", "Argan repair shampoo 250 ml", 2400),
        ],
        "subtotal": 9160, "tax": 1740, "tip": 1000, "total": 11900, "currency": "EUR",
        "payments": [{ "method": "card", "amount": 11900, "paid_at": "2026-03-14T10:38:22Z" }],
        "issued_at": "2026-03-14T10:36:05Z", "closed_at": "2026-03-14T10:38:22Z",
    });
    vec![("invoice.closed", "An invoice was fully paid and closed at checkout.", sample)]
}

fn memberships() -> Events {
    let base = json!({
        "id": "mem_2h7xd", "status": "active", "customer": customer_ref(), "location": location_ref(),
        "plan": { "id": "pln_4e8sj", "name": "Unlimited Yoga", "billing_period": "month", "price": 8900 },
        "currency": "EUR",
        "starts_at": "2026-03-01T00:00:00Z", "renews_at": "2026-04-01T00:00:00Z",
        "created_at": "2026-02-27T12:30:14Z", "updated_at": "2026-02-27T12:30:14Z",
    });
    vec![
        ("membership.created", "A client started a new membership.", base.clone()),
        (
            "membership.frozen",
            "A membership was paused until a given date.",
            with(
                &base,
                json!({
                    "status": "frozen", "frozen_at": "2026-03-18T09:00:00Z", "frozen_until": "2026-04-18T00:00:00Z",
                    "freeze_reason": "Travelling abroad.",
                }),
            ),
        ),
        (
            "membership.unfrozen",
            "A paused membership became active again.",
            with(
                &base,
                json!({
                    "unfrozen_at": "2026-04-18T00:00:00Z", "renews_at": "2026-05-01T00:00:00Z",
                }),
            ),
        ),
        (
            "membership.cancelled",
            "A membership was cancelled.",
            with(
                &base,
                json!({
                    "status": "cancelled", "cancelled_at": "2026-03-20T16:42:51Z", "ends_at": "2026-04-01T00:00:00Z",
                    "cancellation_reason": "Moving to another city.",
                }),
            ),
        ),
        (
            "membership.reinstated",
            "A cancelled membership was reinstated.",
            with(
                &base,
                json!({
                    "reinstated_at": "2026-03-25T10:05:33Z",
                }),
            ),
        ),
    ]
}

fn packages() -> Events {
    let base = json!({
        "id": "pkg_6n1rf", "name": "10 × Deep tissue massage (60 min)", "status": "active", "customer": customer_ref(),
        "sessions_total": 10, "sessions_used": 3, "sessions_remaining": 7, "price": 65000, "currency": "EUR",
        "valid_from": "2026-01-15T00:00:00Z", "valid_until": "2027-01-15T00:00:00Z",
        "purchased_at": "2026-01-15T14:22:40Z", "updated_at": "2026-03-02T11:10:00Z",
    });
    let redemption = json!({
        "id": "red_5b8qt", "appointment_id": "apt_8f2k1", "sessions": 1, "redeemed_at": "2026-03-14T10:34:47Z",
        "redeemed_by": { "id": "emp_4t8zn", "name": "Lena Fischer" },
    });
    vec![
        (
            "package.created",
            "A client bought a package of prepaid sessions.",
            with(
                &base,
                json!({
                    "sessions_used": 0, "sessions_remaining": 10, "updated_at": "2026-01-15T14:22:40Z",
                }),
            ),
        ),
        (
            "package.redeemed",
            "A session from a client's package was used.",
            with(
                &base,
                json!({
                    "sessions_used": 4, "sessions_remaining": 6, "redemption": redemption,
                }),
            ),
        ),
        (
            "package.redemption_reversed",
            "A package redemption was undone and the session returned to the package.",
            with(
                &base,
                json!({ "redemption": with(&redemption, json!({
                "reversed_at": "2026-03-14T12:00:00Z", "reversal_reason": "Redeemed on the wrong package.",
            })) }),
            ),
        ),
        (
            "package.status_updated",
            "A package's status changed, for example it was suspended or reactivated.",
            with(
                &base,
                json!({
                    "status": "suspended", "previous_status": "active",
                }),
            ),
        ),
        (
            "package.validity_updated",
            "A package's expiry date changed.",
            with(
                &base,
                json!({
                    "valid_until": "2027-04-15T00:00:00Z", "previous_valid_until": "2027-01-15T00:00:00Z",
                }),
            ),
        ),
        (
            "package.amended",
            "A package's details, such as its number of sessions, were changed.",
            with(
                &base,
                json!({
                    "sessions_total": 12, "sessions_remaining": 9, "changed_fields": ["sessions_total"],
                }),
            ),
        ),
        (
            "package.removed",
            "A package was removed from a client's account.",
            with(
                &base,
                json!({
                    "status": "removed", "removed_at": "2026-03-21T09:30:00Z",
                }),
            ),
        ),
    ]
}

fn bookings() -> Events {
    let base = json!({
        "id": "bkg_4w8cz", "reference": "VN-7731", "service_id": "srv_5521", "status": "confirmed", "party_size": 4,
        "customer": customer_ref(), "location": location_ref(),
        "activity": { "id": "acv_3j6ko", "name": "Private sauna suite (2 h)" },
        "start_at": "2026-03-21T15:00:00Z", "end_at": "2026-03-21T17:00:00Z",
        "deposit": 5000, "total": 18000, "currency": "EUR", "notes": "Birthday celebration.",
        "created_at": "2026-03-09T19:22:03Z", "updated_at": "2026-03-09T19:22:03Z",
    });
    vec![
        ("booking.created", "A guest booked a space or activity at a venue.", base.clone()),
        (
            "booking.amended",
            "A venue booking's time, party size or details changed.",
            with(
                &base,
                json!({
                    "party_size": 6, "total": 24000, "updated_at": "2026-03-15T13:40:17Z",
                    "previous": { "party_size": 4, "total": 18000 },
                }),
            ),
        ),
        (
            "booking.cancelled",
            "A venue booking was cancelled.",
            with(
                &base,
                json!({
                    "status": "cancelled", "cancelled_at": "2026-03-19T10:02:45Z", "refund": 5000,
                    "cancellation_reason": "Change of plans.",
                }),
            ),
        ),
        (
            "booking.deleted",
            "A venue booking was deleted from the calendar (not cancelled: no cancellation was recorded).",
            with(
                &base,
                json!({
                    "status": "deleted", "deleted_at": "2026-03-19T10:05:12Z",
                }),
            ),
        ),
        (
            "booking.checked_in",
            "A guest arrived and was checked in for their booking.",
            with(
                &base,
                json!({
                    "status": "checked_in", "checked_in_at": "2026-03-21T14:52:31Z",
                }),
            ),
        ),
    ]
}

fn accounts() -> Events {
    let base = json!({
        "id": "acc_5r2yt", "name": "Brightwave GmbH", "kind": "corporate",
        "billing_email": "accounts@brightwave.example", "phone": "+49301234567", "vat_number": "DE298765432",
        "address": { "line1": "Friedrichstraße 68", "city": "Berlin", "postal_code": "10117", "country": "DE" },
        "manager": { "id": "emp_9a1kc", "name": "Marco Rossi" },
        "created_at": "2026-01-08T09:14:00Z", "updated_at": "2026-01-08T09:14:00Z",
    });
    vec![
        ("account.created", "A business account, such as a corporate client, was created.", base.clone()),
        (
            "account.amended",
            "A business account's details changed.",
            with(
                &base,
                json!({
                    "billing_email": "finance@brightwave.example", "updated_at": "2026-03-03T16:20:00Z",
                    "changed_fields": ["billing_email"],
                }),
            ),
        ),
        ("account.removed", "A business account was removed.", with(&base, json!({ "removed_at": "2026-03-30T08:45:00Z" }))),
    ]
}

fn contacts() -> Events {
    let base = json!({
        "id": "con_8k4dh", "account_id": "acc_5r2yt", "first_name": "Jonas", "last_name": "Weber",
        "email": "jonas.weber@brightwave.example", "phone": "+4915598765432", "role": "Office manager",
        "primary": true, "created_at": "2026-01-08T09:16:30Z", "updated_at": "2026-01-08T09:16:30Z",
    });
    vec![
        ("contact.created", "A contact person was added to a business account.", base.clone()),
        (
            "contact.amended",
            "A contact person's details changed.",
            with(
                &base,
                json!({
                    "role": "People & culture lead", "updated_at": "2026-02-14T11:00:00Z", "changed_fields": ["role"],
                }),
            ),
        ),
        ("contact.removed", "A contact person was removed.", with(&base, json!({ "removed_at": "2026-03-30T08:46:12Z" }))),
    ]
}

fn employees() -> Events {
    let base = json!({
        "id": "emp_4t8zn", "first_name": "Lena", "last_name": "Fischer", "email": "lena@lumiere.example",
        "phone": "+4915211122233", "job_title": "Senior stylist", "bookable": true, "started_on": "2023-09-01",
        "locations": [location_ref()],
        "services": [{ "id": "svc_71hd2", "name": "Balayage & blow-dry" }, { "id": "svc_2k9wq", "name": "Cut" }],
        "created_at": "2023-08-28T10:00:00Z", "updated_at": "2023-08-28T10:00:00Z",
    });
    vec![
        ("employee.created", "A new staff member was added.", base.clone()),
        (
            "employee.amended",
            "A staff member's details changed.",
            with(
                &base,
                json!({
                    "job_title": "Colour director", "updated_at": "2026-03-01T08:00:00Z", "changed_fields": ["job_title"],
                }),
            ),
        ),
        (
            "employee.removed",
            "A staff member was removed.",
            with(
                &base,
                json!({
                    "bookable": false, "removed_at": "2026-06-30T17:00:00Z",
                }),
            ),
        ),
    ]
}

fn activities() -> Events {
    let base = json!({
        "id": "acv_3j6ko", "name": "Private sauna suite (2 h)", "category": "Wellness", "active": true,
        "description": "Finnish sauna, steam room and relaxation lounge for up to 6 guests.",
        "duration_minutes": 120, "min_guests": 2, "max_guests": 6, "price": 18000, "currency": "EUR",
        "location": location_ref(), "created_at": "2025-10-01T09:00:00Z", "updated_at": "2025-10-01T09:00:00Z",
    });
    vec![
        ("activity.created", "A new bookable activity was added to the venue's offering.", base.clone()),
        (
            "activity.amended",
            "A bookable activity's details, price or duration changed.",
            with(
                &base,
                json!({
                    "price": 19500, "updated_at": "2026-03-01T07:30:00Z", "previous": { "price": 18000 },
                }),
            ),
        ),
        (
            "activity.removed",
            "A bookable activity was removed.",
            with(
                &base,
                json!({
                    "active": false, "removed_at": "2026-03-31T22:00:00Z",
                }),
            ),
        ),
    ]
}

fn products() -> Events {
    let base = json!({
        "id": "prd_8c3vn", "name": "Argan repair shampoo 250 ml", "sku": "ARG-250", "barcode": "4006381333931",
        "brand": "Maison Lumière", "category": "Hair care", "price": 2400, "cost": 950, "currency": "EUR",
        "tax_rate": 0.19, "active": true, "created_at": "2025-09-12T13:05:00Z", "updated_at": "2025-09-12T13:05:00Z",
    });
    vec![
        ("product.created", "A new retail product was added.", base.clone()),
        (
            "product.amended",
            "A retail product's details or price changed.",
            with(
                &base,
                json!({
                    "price": 2600, "updated_at": "2026-03-01T07:45:00Z", "previous": { "price": 2400 },
                }),
            ),
        ),
        (
            "product.removed",
            "A retail product was removed.",
            with(
                &base,
                json!({
                    "active": false, "removed_at": "2026-03-31T22:00:00Z",
                }),
            ),
        ),
    ]
}

fn inventory() -> Events {
    let sample = json!({
        "id": "stk_3d9pa", "product_id": "prd_8c3vn", "sku": "ARG-250", "location": location_ref(),
        "quantity_before": 14, "quantity_after": 13, "change": -1, "reason": "sale",
        "invoice_id": "inv_7q2wb", "changed_at": "2026-03-14T10:38:22Z",
    });
    vec![("inventory.changed", "The stock level of a product changed at a location.", sample)]
}

/// `base` with `patch` merged in: objects merge key by key, anything else is replaced.
fn with(base: &Value, patch: Value) -> Value {
    fn merge(target: &mut Value, patch: Value) {
        match (target, patch) {
            (Value::Object(target), Value::Object(patch)) => {
                for (key, value) in patch {
                    match target.get_mut(&key) {
                        Some(slot) => merge(slot, value),
                        None => {
                            target.insert(key, value);
                        }
                    }
                }
            }
            (target, patch) => *target = patch,
        }
    }
    let mut out = base.clone();
    merge(&mut out, patch);
    out
}

/// A JSON schema describing `value`: every object key is required, arrays take their first item's schema.
pub(crate) fn schema_of(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let properties: Map<String, Value> = map.iter().map(|(k, v)| (k.clone(), schema_of(v))).collect();
            let mut required: Vec<&String> = map.keys().collect();
            required.sort();
            json!({ "type": "object", "properties": properties, "required": required })
        }
        Value::Array(items) => json!({ "type": "array", "items": items.first().map(schema_of).unwrap_or(json!({})) }),
        Value::String(s) if is_timestamp(s) => json!({ "type": "string", "format": "date-time" }),
        Value::String(_) => json!({ "type": "string" }),
        Value::Number(n) if n.is_f64() => json!({ "type": "number" }),
        Value::Number(_) => json!({ "type": "integer" }),
        Value::Bool(_) => json!({ "type": "boolean" }),
        Value::Null => json!({ "type": "null" }),
    }
}

/// Whether `s` looks like an RFC 3339 timestamp, e.g. `2026-03-14T09:30:00Z` or `...09:30:00.5+01:00`.
pub(crate) fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = digits(0..4) && digits(5..7) && digits(8..10) && digits(11..13) && digits(14..16) && digits(17..19);
    if !shape || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()),
        _ => false,
    }
}

/// The Standard envelope around `data`; deliveries, payload filters and the catalog's samples
/// all build it here.
pub fn envelope(id: &str, event_id: &str, event_type: &str, timestamp: &str, tenant_id: &str, data: Value) -> Value {
    // Every type's resource is its name's first segment, built-in or custom: no catalog needed.
    let resource = event_type.split('.').next().unwrap_or_default();
    serde_json::json!({
        "id": id,
        "event_id": event_id,
        "event_schema": "v1",
        "event_resource": resource,
        "event_type": event_type,
        "event_timestamp": timestamp,
        "tenant_id": tenant_id,
        "data": data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn all() -> &'static [EventType] {
        builtin()
    }

    fn find(name: &str) -> Option<&'static EventType> {
        builtin().iter().find(|e| e.name == name)
    }

    fn resolve(name: &str) -> Option<EventType> {
        Catalog::default().resolve(name).cloned()
    }

    /// Checks `value` against the subset of JSON Schema that `schema_of` produces.
    fn check(schema: &Value, value: &Value, path: &str) -> Result<(), String> {
        let ok = match schema["type"].as_str() {
            None => return Ok(()),
            Some("object") => value.is_object(),
            Some("array") => value.is_array(),
            Some("string") => value.is_string(),
            Some("integer") => value.is_i64() || value.is_u64(),
            Some("number") => value.is_number(),
            Some("boolean") => value.is_boolean(),
            Some("null") => value.is_null(),
            Some(other) => return Err(format!("{path}: unknown type {other}")),
        };
        if !ok {
            return Err(format!("{path}: expected {}, got {value}", schema["type"]));
        }
        if schema["format"] == "date-time" && !is_timestamp(value.as_str().unwrap_or_default()) {
            return Err(format!("{path}: not a date-time"));
        }
        if let Some(required) = schema["required"].as_array() {
            for key in required {
                let key = key.as_str().ok_or(format!("{path}: bad required entry"))?;
                if value.get(key).is_none() {
                    return Err(format!("{path}: missing required key {key}"));
                }
            }
        }
        if let (Some(properties), Some(map)) = (schema["properties"].as_object(), value.as_object()) {
            for (key, sub) in properties {
                if let Some(v) = map.get(key) {
                    check(sub, v, &format!("{path}.{key}"))?;
                }
            }
        }
        if let Some(items) = value.as_array() {
            for (i, item) in items.iter().enumerate() {
                check(&schema["items"], item, &format!("{path}[{i}]"))?;
            }
        }
        Ok(())
    }

    #[test]
    fn exactly_58_unique_names() {
        let names: HashSet<_> = all().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(all().len(), 59);
        assert_eq!(names.len(), 59);
    }

    #[test]
    fn names_are_dotted_lower_case_and_start_with_their_resource() {
        for e in all() {
            let segments: Vec<_> = e.name.split('.').collect();
            assert!(segments.len() >= 2, "{}", e.name);
            for s in &segments {
                assert!(!s.is_empty() && s.bytes().all(|c| c.is_ascii_lowercase() || c == b'_'), "{}", e.name);
            }
            assert!(e.name.starts_with(&format!("{}.", e.resource)), "{}", e.name);
            assert!(e.description.ends_with('.') && !e.description.is_empty(), "{}", e.name);
        }
    }

    #[test]
    fn find_by_name() {
        assert_eq!(find("appointment.booking.created").unwrap().resource, "appointment");
        assert_eq!(find("inventory.changed").unwrap().name, "inventory.changed");
        assert!(find("appointment.exploded").is_none());
        assert!(find("").is_none());
    }

    #[test]
    fn every_sample_matches_its_schema() {
        for e in all() {
            assert!(e.sample.is_object(), "{}", e.name);
            assert_eq!(e.schema["$schema"], DRAFT);
            assert_eq!(e.schema["title"], e.name);
            if let Err(problem) = check(&e.schema, &e.sample, &e.name) {
                panic!("{problem}");
            }
        }
    }

    #[test]
    fn schema_is_derived_from_the_sample() {
        let s = schema_of(&json!({ "b": [1], "a": { "at": "2026-03-14T09:30:00Z", "x": 0.5, "ok": true, "n": null } }));
        assert_eq!(s["required"], json!(["a", "b"]));
        assert_eq!(s["properties"]["b"], json!({ "type": "array", "items": { "type": "integer" } }));
        let a = &s["properties"]["a"]["properties"];
        assert_eq!(a["at"], json!({ "type": "string", "format": "date-time" }));
        assert_eq!(a["x"]["type"], "number");
        assert_eq!(a["ok"]["type"], "boolean");
        assert_eq!(a["n"]["type"], "null");
        assert_eq!(schema_of(&json!([]))["items"], json!({}));
        assert!(check(&s, &json!({ "a": {} }), "$").is_err());
    }

    #[test]
    fn timestamps() {
        for ok in ["2026-03-14T09:30:00Z", "2026-03-14T09:30:00.123Z", "2026-03-14T09:30:00+01:00"] {
            assert!(is_timestamp(ok), "{ok}");
        }
        for bad in ["2026-03-14", "2026-03-14 09:30:00Z", "2026-03-14T09:30:00", "2026-03-14T09:30:00.Z", "Lena"] {
            assert!(!is_timestamp(bad), "{bad}");
        }
    }

    #[test]
    fn resources_cover_the_catalog_in_order() {
        let mut used: Vec<&str> = Vec::new();
        for e in all() {
            if used.last() != Some(&e.resource.as_str()) {
                assert!(!used.contains(&e.resource.as_str()), "{} is not grouped", e.resource);
                used.push(&e.resource);
            }
        }
        let resources = Catalog::default().resources();
        let listed: Vec<&str> = resources.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(used, listed);
        assert!(resources.iter().all(|(_, label)| !label.is_empty()));
    }

    #[test]
    fn aliases_resolve_to_catalog_events_and_shadow_none() {
        for (alias, canonical) in ALIASES {
            assert!(find(alias).is_none(), "{alias} is an alias, not a catalog name");
            assert_eq!(resolve(alias).map(|e| e.name), Some(canonical.to_string()));
        }
        assert_eq!(resolve("booking.deleted").map(|e| e.name).as_deref(), Some("booking.deleted"));
        assert!(resolve("bookings.remove").is_none());
    }

    #[test]
    fn catalog_order() {
        let expected = "appointment.booking.created appointment.booking.cancelled appointment.updated \
            appointment.manual.booking.created appointment.booking.rebooked appointment.started appointment.completed \
            appointment.feedback.created appointment.group.created appointment.group.status_changed \
            event.booking.created event.booking.cancelled event.manual.booking.created event.booking.rebooked \
            class.booking.approved class.booking.rejected class.booking.deleted class.booking.no_show \
            class.schedule.created class.schedule.updated class.schedule.cancelled class.schedule.deleted \
            customer.created customer.updated customer.deleted invoice.closed \
            membership.created membership.frozen membership.unfrozen membership.cancelled membership.reinstated \
            package.created package.redeemed package.redemption_reversed package.status_updated \
            package.validity_updated package.amended package.removed \
            booking.created booking.amended booking.cancelled booking.deleted booking.checked_in \
            account.created account.amended account.removed contact.created contact.amended contact.removed \
            employee.created employee.amended employee.removed activity.created activity.amended activity.removed \
            product.created product.amended product.removed inventory.changed";
        let names: Vec<_> = all().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, expected.split_whitespace().collect::<Vec<_>>());
    }

    #[test]
    fn custom_types_join_the_catalog_after_the_built_ins() {
        let custom = |name: &str, deprecated: bool| EventType {
            name: name.into(),
            resource: name.split('.').next().unwrap().into(),
            description: "A custom type.".into(),
            schema: derived_schema(name, &json!({ "id": "x" })),
            sample: json!({ "id": "x" }),
            custom: true,
            deprecated,
            schema_given: false,
            created_at: Some(1),
            updated_at: Some(1),
        };
        let catalog = Catalog::new(vec![custom("gift_card.redeemed", false), custom("appointment.reminder.sent", true)], 3);
        assert_eq!(catalog.len(), 61);
        assert_eq!(catalog.iter().nth(59).unwrap().name, "appointment.reminder.sent", "custom ones by name, after the built-ins");
        assert!(catalog.resolve("appointment.reminder.sent").unwrap().deprecated);
        assert_eq!(catalog.resolve("bookings.create").unwrap().name, "booking.created");
        let resources = catalog.resources();
        assert_eq!(resources.last().unwrap(), &("gift_card".to_string(), "Gift card".to_string()));
        assert_eq!(resources.iter().filter(|(r, _)| r == "appointment").count(), 1);
        assert_eq!(envelope("msg_1", "e", "gift_card.redeemed", "t", "ten_1", json!({}))["event_resource"], "gift_card");
    }
}
