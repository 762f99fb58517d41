-- Schema version 10: notifications to shoppers (rendered once, in their language) and their delivery log.
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

CREATE TABLE "notifications" (
    "id" TEXT NOT NULL CONSTRAINT "PK_notifications" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "return_id" TEXT NULL,
    "event_id" TEXT NOT NULL,
    "template" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "recipient" TEXT NOT NULL,
    "locale" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL,
    "next_attempt_at" INTEGER NULL,
    "last_error" TEXT NULL,
    "sent_at" INTEGER NULL,
    "created_at" INTEGER NOT NULL,
    "updated_at" INTEGER NOT NULL,
    CONSTRAINT "FK_notifications_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT
);

CREATE UNIQUE INDEX "IX_notifications_event_id_template_channel_recipient" ON "notifications" ("event_id", "template", "channel", "recipient");

CREATE INDEX "IX_notifications_merchant_id_return_id_created_at" ON "notifications" ("merchant_id", "return_id", "created_at");

CREATE INDEX "IX_notifications_status_next_attempt_at" ON "notifications" ("status", "next_attempt_at");
