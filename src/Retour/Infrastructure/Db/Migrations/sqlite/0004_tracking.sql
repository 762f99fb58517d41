-- Schema version 4: shipments (the return leg of a parcel), their tracking events, and the tracking webhook secrets.
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

ALTER TABLE "merchants" ADD COLUMN "aftership_secret" TEXT NULL;

ALTER TABLE "merchants" ADD COLUMN "easypost_secret" TEXT NULL;

ALTER TABLE "merchants" ADD COLUMN "shippo_token" TEXT NULL;

CREATE TABLE "shipments" (
    "id" TEXT NOT NULL CONSTRAINT "PK_shipments" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "return_id" TEXT NOT NULL,
    "carrier_code" TEXT NOT NULL,
    "service" TEXT NOT NULL,
    "tracking_number" TEXT NOT NULL,
    "status" TEXT NULL,
    "status_at" INTEGER NULL,
    "incident" TEXT NULL,
    "pickup_date" TEXT NULL,
    "pickup_attempts" INTEGER NOT NULL,
    "allocation_json" TEXT NULL,
    "cancelled_at" INTEGER NULL,
    "created_at" INTEGER NOT NULL,
    "updated_at" INTEGER NOT NULL,
    CONSTRAINT "FK_shipments_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT,
    CONSTRAINT "FK_shipments_returns_return_id" FOREIGN KEY ("return_id") REFERENCES "returns" ("id") ON DELETE RESTRICT
);

CREATE TABLE "tracking_events" (
    "id" TEXT NOT NULL CONSTRAINT "PK_tracking_events" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "shipment_id" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "event_key" TEXT NOT NULL,
    "status" TEXT NULL,
    "raw_code" TEXT NOT NULL,
    "message" TEXT NULL,
    "location" TEXT NULL,
    "incident" TEXT NULL,
    "occurred_at" INTEGER NOT NULL,
    "received_at" INTEGER NOT NULL,
    CONSTRAINT "FK_tracking_events_shipments_shipment_id" FOREIGN KEY ("shipment_id") REFERENCES "shipments" ("id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX "IX_shipments_merchant_id_tracking_number" ON "shipments" ("merchant_id", "tracking_number");

CREATE INDEX "IX_shipments_return_id" ON "shipments" ("return_id");

CREATE UNIQUE INDEX "IX_tracking_events_shipment_id_event_key" ON "tracking_events" ("shipment_id", "event_key");
