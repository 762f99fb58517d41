-- Schema version 12: merchants' own notification texts (per message, channel and language), which messages go on
-- which channel, the SMS provider's id on each notification, the label reminder on shipments and the shipment of
-- exchange orders. Written from the EF model; SchemaTests prove a migrated database matches the model.

CREATE TABLE "notification_templates" (
    "id" TEXT NOT NULL CONSTRAINT "PK_notification_templates" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "template" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "locale" TEXT NOT NULL,
    "subject" TEXT NULL,
    "body" TEXT NOT NULL,
    "updated_at" INTEGER NOT NULL,
    "updated_by" TEXT NOT NULL,
    CONSTRAINT "FK_notification_templates_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT
);

CREATE UNIQUE INDEX "IX_notification_templates_merchant_id_template_channel_locale" ON "notification_templates" ("merchant_id", "template", "channel", "locale");

ALTER TABLE "merchants" ADD COLUMN "notification_settings_json" TEXT NULL;

ALTER TABLE "notifications" ADD COLUMN "provider_ref" TEXT NULL;

ALTER TABLE "shipments" ADD COLUMN "label_reminder_at" INTEGER NULL;

CREATE INDEX "IX_shipments_label_reminder_at" ON "shipments" ("label_reminder_at");

ALTER TABLE "exchange_orders" ADD COLUMN "shipped_at" INTEGER NULL;

ALTER TABLE "exchange_orders" ADD COLUMN "shipped_carrier" TEXT NULL;

ALTER TABLE "exchange_orders" ADD COLUMN "shipped_tracking" TEXT NULL;
