-- Schema version 2: the shopper portal (sessions, photos, lookup limits, warehouses, Data Protection keys)
-- and what a return records of the shopper's choices (carrier, box-free, pickup date and address, exchange variant).
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

ALTER TABLE "returns" ADD COLUMN "carrier_code" TEXT NULL;

ALTER TABLE "returns" ADD COLUMN "box_free" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "returns" ADD COLUMN "pickup_date" TEXT NULL;

ALTER TABLE "returns" ADD COLUMN "from_address_json" TEXT NULL;

ALTER TABLE "return_lines" ADD COLUMN "exchange_sku" TEXT NULL;

CREATE TABLE "data_protection_keys" (
    "id" TEXT NOT NULL CONSTRAINT "PK_data_protection_keys" PRIMARY KEY,
    "friendly_name" TEXT NOT NULL,
    "xml" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL
);

CREATE TABLE "lookup_failures" (
    "id" TEXT NOT NULL CONSTRAINT "PK_lookup_failures" PRIMARY KEY,
    "key" TEXT NOT NULL,
    "at" INTEGER NOT NULL
);

CREATE TABLE "photos" (
    "id" TEXT NOT NULL CONSTRAINT "PK_photos" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "session_id" TEXT NULL,
    "return_id" TEXT NULL,
    "order_line_ref" TEXT NOT NULL,
    "content_type" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "data" BLOB NOT NULL,
    "created_at" INTEGER NOT NULL,
    CONSTRAINT "FK_photos_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT
);

CREATE TABLE "warehouses" (
    "id" TEXT NOT NULL CONSTRAINT "PK_warehouses" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "address_json" TEXT NOT NULL,
    "is_default" INTEGER NOT NULL,
    "created_at" INTEGER NOT NULL,
    CONSTRAINT "FK_warehouses_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT
);

CREATE TABLE "portal_sessions" (
    "id" TEXT NOT NULL CONSTRAINT "PK_portal_sessions" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "order_id" TEXT NOT NULL,
    "state_json" TEXT NOT NULL,
    "return_id" TEXT NULL,
    "created_at" INTEGER NOT NULL,
    "updated_at" INTEGER NOT NULL,
    "expires_at" INTEGER NOT NULL,
    CONSTRAINT "FK_portal_sessions_orders_order_id" FOREIGN KEY ("order_id") REFERENCES "orders" ("id") ON DELETE CASCADE
);

CREATE INDEX "IX_lookup_failures_key_at" ON "lookup_failures" ("key", "at");

CREATE INDEX "IX_photos_merchant_id" ON "photos" ("merchant_id");

CREATE INDEX "IX_photos_return_id" ON "photos" ("return_id");

CREATE INDEX "IX_photos_session_id" ON "photos" ("session_id");

CREATE INDEX "IX_portal_sessions_expires_at" ON "portal_sessions" ("expires_at");

CREATE INDEX "IX_portal_sessions_order_id" ON "portal_sessions" ("order_id");

CREATE UNIQUE INDEX "IX_warehouses_merchant_id_code" ON "warehouses" ("merchant_id", "code");
