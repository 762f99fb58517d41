-- Schema version 9: outgoing webhooks (endpoints per merchant and their delivery log).
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

CREATE TABLE "webhook_endpoints" (
    "id" TEXT NOT NULL CONSTRAINT "PK_webhook_endpoints" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "events_json" TEXT NOT NULL,
    "description" TEXT NULL,
    "secret" TEXT NOT NULL,
    "active" INTEGER NOT NULL,
    "disabled_reason" TEXT NULL,
    "disabled_at" INTEGER NULL,
    "consecutive_failures" INTEGER NOT NULL,
    "last_success_at" INTEGER NULL,
    "created_at" INTEGER NOT NULL,
    "updated_at" INTEGER NOT NULL,
    CONSTRAINT "FK_webhook_endpoints_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT
);

CREATE TABLE "webhook_deliveries" (
    "id" TEXT NOT NULL CONSTRAINT "PK_webhook_deliveries" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "endpoint_id" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL,
    "next_attempt_at" INTEGER NULL,
    "last_status_code" INTEGER NULL,
    "last_error" TEXT NULL,
    "last_response" TEXT NULL,
    "last_duration_ms" REAL NULL,
    "last_attempt_at" INTEGER NULL,
    "delivered_at" INTEGER NULL,
    "replayed_at" INTEGER NULL,
    "created_at" INTEGER NOT NULL,
    "updated_at" INTEGER NOT NULL,
    CONSTRAINT "FK_webhook_deliveries_webhook_endpoints_endpoint_id" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints" ("id") ON DELETE CASCADE
);

CREATE INDEX "IX_webhook_deliveries_endpoint_id_created_at" ON "webhook_deliveries" ("endpoint_id", "created_at");

CREATE UNIQUE INDEX "IX_webhook_deliveries_endpoint_id_event_id" ON "webhook_deliveries" ("endpoint_id", "event_id");

CREATE INDEX "IX_webhook_deliveries_status_next_attempt_at" ON "webhook_deliveries" ("status", "next_attempt_at");

CREATE INDEX "IX_webhook_endpoints_merchant_id_created_at" ON "webhook_endpoints" ("merchant_id", "created_at");
