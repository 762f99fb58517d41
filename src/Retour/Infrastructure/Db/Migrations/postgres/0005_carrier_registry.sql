-- Schema version 5: the carrier registry (areas with postal codes, rate card, capacity, cut-off, adapter options),
-- the merchant's allocation settings, item weights, and what a shipment records for pickups, scorecards, polling and expiry.
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

ALTER TABLE carriers RENAME COLUMN countries TO areas;

ALTER TABLE carriers ALTER COLUMN areas TYPE character varying(4000);

UPDATE carriers SET areas = replace(areas, ',', ';');

ALTER TABLE carriers ADD COLUMN rate_card_json character varying(32000);

ALTER TABLE carriers ADD COLUMN daily_capacity integer;

ALTER TABLE carriers ADD COLUMN pickup_cutoff character varying(5);

ALTER TABLE carriers ADD COLUMN adapter_options_json character varying(2000);

ALTER TABLE carriers ADD COLUMN updated_at timestamp with time zone;

ALTER TABLE merchants ADD COLUMN allocation_json character varying(64000);

ALTER TABLE returns ADD COLUMN carrier_requested boolean NOT NULL DEFAULT FALSE;

ALTER TABLE order_lines ADD COLUMN grams integer;

ALTER TABLE shipments ADD COLUMN pickup_window character varying(16);

ALTER TABLE shipments ADD COLUMN pickup_failures integer NOT NULL DEFAULT 0;

ALTER TABLE shipments ADD COLUMN picked_up_at timestamp with time zone;

ALTER TABLE shipments ADD COLUMN delivered_at timestamp with time zone;

ALTER TABLE shipments ADD COLUMN damaged boolean NOT NULL DEFAULT FALSE;

ALTER TABLE shipments ADD COLUMN promised_days integer NOT NULL DEFAULT 0;

ALTER TABLE shipments ADD COLUMN label_expires_at timestamp with time zone;

ALTER TABLE shipments ADD COLUMN next_poll_at timestamp with time zone;

ALTER TABLE shipments ADD COLUMN poll_failures integer NOT NULL DEFAULT 0;

ALTER TABLE shipments ADD COLUMN sim_seed integer NOT NULL DEFAULT 0;

CREATE INDEX "IX_shipments_next_poll_at" ON shipments (next_poll_at);

CREATE INDEX "IX_shipments_label_expires_at" ON shipments (label_expires_at);

CREATE INDEX "IX_shipments_merchant_id_carrier_code_created_at" ON shipments (merchant_id, carrier_code, created_at);

-- Admin keys were made with every scope there was; carriers:write is new, so they get it too.
UPDATE api_keys SET scopes = scopes || ' carriers:write' WHERE name = 'admin' AND scopes LIKE '%carriers:read%' AND scopes NOT LIKE '%carriers:write%';
