-- Schema version 6: failed pickups (NDR cases), the merchant's rules for them, re-booked pickups on the shipment,
-- and the key of signed tracking batches.
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

ALTER TABLE "merchants" ADD COLUMN "pickup_max_attempts" INTEGER NOT NULL DEFAULT 3;

ALTER TABLE "merchants" ADD COLUMN "pickup_answer_hours" INTEGER NOT NULL DEFAULT 48;

ALTER TABLE "merchants" ADD COLUMN "sandbox_secret" TEXT NULL;

ALTER TABLE "shipments" ADD COLUMN "pickup_rebooks" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "shipments" ADD COLUMN "rebooked_at" INTEGER NULL;

CREATE TABLE "ndr_cases" (
    "id" TEXT NOT NULL CONSTRAINT "PK_ndr_cases" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "return_id" TEXT NOT NULL,
    "shipment_id" TEXT NOT NULL,
    "rma" TEXT NOT NULL,
    "carrier_code" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "raw_code" TEXT NOT NULL,
    "message" TEXT NULL,
    "state" TEXT NOT NULL,
    "answer_by" INTEGER NULL,
    "action" TEXT NULL,
    "answered_by" TEXT NULL,
    "answered_at" INTEGER NULL,
    "requested_date" TEXT NULL,
    "escalation_reason" TEXT NULL,
    "escalated_at" INTEGER NULL,
    "rebooked_at" INTEGER NULL,
    "rebook_error" TEXT NULL,
    "failed_at" INTEGER NOT NULL,
    "created_at" INTEGER NOT NULL,
    "updated_at" INTEGER NOT NULL,
    CONSTRAINT "FK_ndr_cases_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT,
    CONSTRAINT "FK_ndr_cases_returns_return_id" FOREIGN KEY ("return_id") REFERENCES "returns" ("id") ON DELETE RESTRICT,
    CONSTRAINT "FK_ndr_cases_shipments_shipment_id" FOREIGN KEY ("shipment_id") REFERENCES "shipments" ("id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX "IX_ndr_cases_shipment_id_attempt" ON "ndr_cases" ("shipment_id", "attempt");

CREATE INDEX "IX_ndr_cases_merchant_id_state_created_at" ON "ndr_cases" ("merchant_id", "state", "created_at");

CREATE INDEX "IX_ndr_cases_return_id" ON "ndr_cases" ("return_id");

CREATE INDEX "IX_ndr_cases_answer_by" ON "ndr_cases" ("answer_by");
