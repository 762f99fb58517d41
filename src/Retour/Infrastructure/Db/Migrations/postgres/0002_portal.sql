-- Schema version 2: the shopper portal (sessions, photos, lookup limits, warehouses, Data Protection keys)
-- and what a return records of the shopper's choices (carrier, box-free, pickup date and address, exchange variant).
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

ALTER TABLE returns ADD COLUMN carrier_code character varying(32);

ALTER TABLE returns ADD COLUMN box_free boolean NOT NULL DEFAULT FALSE;

ALTER TABLE returns ADD COLUMN pickup_date date;

ALTER TABLE returns ADD COLUMN from_address_json character varying(2000);

ALTER TABLE return_lines ADD COLUMN exchange_sku character varying(100);

CREATE TABLE data_protection_keys (
    id uuid NOT NULL,
    friendly_name character varying(200) NOT NULL,
    xml text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_data_protection_keys" PRIMARY KEY (id)
);

CREATE TABLE lookup_failures (
    id uuid NOT NULL,
    key character varying(200) NOT NULL,
    at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_lookup_failures" PRIMARY KEY (id)
);

CREATE TABLE photos (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    session_id uuid,
    return_id uuid,
    order_line_ref character varying(64) NOT NULL,
    content_type character varying(32) NOT NULL,
    size integer NOT NULL,
    sha256 character varying(64) NOT NULL,
    data bytea NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_photos" PRIMARY KEY (id),
    CONSTRAINT "FK_photos_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT
);

CREATE TABLE warehouses (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    code character varying(32) NOT NULL,
    name character varying(200) NOT NULL,
    address_json character varying(2000) NOT NULL,
    is_default boolean NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_warehouses" PRIMARY KEY (id),
    CONSTRAINT "FK_warehouses_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT
);

CREATE TABLE portal_sessions (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    order_id uuid NOT NULL,
    state_json character varying(64000) NOT NULL,
    return_id uuid,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_portal_sessions" PRIMARY KEY (id),
    CONSTRAINT "FK_portal_sessions_orders_order_id" FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE
);

CREATE INDEX "IX_lookup_failures_key_at" ON lookup_failures (key, at);

CREATE INDEX "IX_photos_merchant_id" ON photos (merchant_id);

CREATE INDEX "IX_photos_return_id" ON photos (return_id);

CREATE INDEX "IX_photos_session_id" ON photos (session_id);

CREATE INDEX "IX_portal_sessions_expires_at" ON portal_sessions (expires_at);

CREATE INDEX "IX_portal_sessions_order_id" ON portal_sessions (order_id);

CREATE UNIQUE INDEX "IX_warehouses_merchant_id_code" ON warehouses (merchant_id, code);
