-- Calenso's own event names replace six names Herald had changed; the old ones stay accepted
-- as aliases at ingest (domain::catalog::ALIASES). Subscriptions are stored as a JSON array of
-- strings, so each quoted name is rewritten in place. Past messages keep the name they had.
UPDATE endpoints SET event_types = REPLACE(event_types, '"appointment.manual_booking.created"', '"appointment.manual.booking.created"');
UPDATE endpoints SET event_types = REPLACE(event_types, '"appointment.rebooked"', '"appointment.booking.rebooked"');
UPDATE endpoints SET event_types = REPLACE(event_types, '"class.booking.created"', '"event.booking.created"');
UPDATE endpoints SET event_types = REPLACE(event_types, '"class.booking.cancelled"', '"event.booking.cancelled"');
UPDATE endpoints SET event_types = REPLACE(event_types, '"class.manual_booking.created"', '"event.manual.booking.created"');
UPDATE endpoints SET event_types = REPLACE(event_types, '"class.booking.rebooked"', '"event.booking.rebooked"');
