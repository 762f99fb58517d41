-- Schema version 5: the carrier registry (areas with postal codes, rate card, capacity, cut-off, adapter options),
-- the merchant's allocation settings, item weights, and what a shipment records for pickups, scorecards, polling and expiry.
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

ALTER TABLE "carriers" RENAME COLUMN "countries" TO "areas";

UPDATE "carriers" SET "areas" = replace("areas", ',', ';');

ALTER TABLE "carriers" ADD COLUMN "rate_card_json" TEXT NULL;

ALTER TABLE "carriers" ADD COLUMN "daily_capacity" INTEGER NULL;

ALTER TABLE "carriers" ADD COLUMN "pickup_cutoff" TEXT NULL;

ALTER TABLE "carriers" ADD COLUMN "adapter_options_json" TEXT NULL;

ALTER TABLE "carriers" ADD COLUMN "updated_at" INTEGER NULL;

ALTER TABLE "merchants" ADD COLUMN "allocation_json" TEXT NULL;

ALTER TABLE "returns" ADD COLUMN "carrier_requested" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "order_lines" ADD COLUMN "grams" INTEGER NULL;

ALTER TABLE "shipments" ADD COLUMN "pickup_window" TEXT NULL;

ALTER TABLE "shipments" ADD COLUMN "pickup_failures" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "shipments" ADD COLUMN "picked_up_at" INTEGER NULL;

ALTER TABLE "shipments" ADD COLUMN "delivered_at" INTEGER NULL;

ALTER TABLE "shipments" ADD COLUMN "damaged" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "shipments" ADD COLUMN "promised_days" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "shipments" ADD COLUMN "label_expires_at" INTEGER NULL;

ALTER TABLE "shipments" ADD COLUMN "next_poll_at" INTEGER NULL;

ALTER TABLE "shipments" ADD COLUMN "poll_failures" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "shipments" ADD COLUMN "sim_seed" INTEGER NOT NULL DEFAULT 0;

CREATE INDEX "IX_shipments_next_poll_at" ON "shipments" ("next_poll_at");

CREATE INDEX "IX_shipments_label_expires_at" ON "shipments" ("label_expires_at");

CREATE INDEX "IX_shipments_merchant_id_carrier_code_created_at" ON "shipments" ("merchant_id", "carrier_code", "created_at");

-- Admin keys were made with every scope there was; carriers:write is new, so they get it too.
UPDATE "api_keys" SET "scopes" = "scopes" || ' carriers:write' WHERE "name" = 'admin' AND "scopes" LIKE '%carriers:read%' AND "scopes" NOT LIKE '%carriers:write%';
