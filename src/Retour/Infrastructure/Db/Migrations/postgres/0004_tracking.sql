-- Schema version 4: shipments (the return leg of a parcel), their tracking events, and the tracking webhook secrets.
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

ALTER TABLE merchants ADD COLUMN aftership_secret character varying(255);

ALTER TABLE merchants ADD COLUMN easypost_secret character varying(255);

ALTER TABLE merchants ADD COLUMN shippo_token character varying(255);

CREATE TABLE shipments (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    return_id uuid NOT NULL,
    carrier_code character varying(32) NOT NULL,
    service character varying(16) NOT NULL,
    tracking_number character varying(64) NOT NULL,
    status character varying(32),
    status_at timestamp with time zone,
    incident character varying(64),
    pickup_date date,
    pickup_attempts integer NOT NULL,
    allocation_json character varying(16000),
    cancelled_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_shipments" PRIMARY KEY (id),
    CONSTRAINT "FK_shipments_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT,
    CONSTRAINT "FK_shipments_returns_return_id" FOREIGN KEY (return_id) REFERENCES returns (id) ON DELETE RESTRICT
);

CREATE TABLE tracking_events (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    shipment_id uuid NOT NULL,
    provider character varying(16) NOT NULL,
    event_key character varying(64) NOT NULL,
    status character varying(32),
    raw_code character varying(200) NOT NULL,
    message character varying(1000),
    location character varying(200),
    incident character varying(64),
    occurred_at timestamp with time zone NOT NULL,
    received_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_tracking_events" PRIMARY KEY (id),
    CONSTRAINT "FK_tracking_events_shipments_shipment_id" FOREIGN KEY (shipment_id) REFERENCES shipments (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX "IX_shipments_merchant_id_tracking_number" ON shipments (merchant_id, tracking_number);

CREATE INDEX "IX_shipments_return_id" ON shipments (return_id);

CREATE UNIQUE INDEX "IX_tracking_events_shipment_id_event_key" ON tracking_events (shipment_id, event_key);
