-- Schema version 12: merchants' own notification texts (per message, channel and language), which messages go on
-- which channel, the SMS provider's id on each notification, the label reminder on shipments and the shipment of
-- exchange orders. Written from the EF model; SchemaTests prove a migrated database matches the model.

CREATE TABLE notification_templates (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    template character varying(64) NOT NULL,
    channel character varying(16) NOT NULL,
    locale character varying(10) NOT NULL,
    subject character varying(500),
    body character varying(20000) NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    updated_by character varying(320) NOT NULL,
    CONSTRAINT "PK_notification_templates" PRIMARY KEY (id),
    CONSTRAINT "FK_notification_templates_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT
);

CREATE UNIQUE INDEX "IX_notification_templates_merchant_id_template_channel_locale" ON notification_templates (merchant_id, template, channel, locale);

ALTER TABLE merchants ADD COLUMN notification_settings_json character varying(4000);

ALTER TABLE notifications ADD COLUMN provider_ref character varying(64);

ALTER TABLE shipments ADD COLUMN label_reminder_at timestamp with time zone;

CREATE INDEX "IX_shipments_label_reminder_at" ON shipments (label_reminder_at);

ALTER TABLE exchange_orders ADD COLUMN shipped_at timestamp with time zone;

ALTER TABLE exchange_orders ADD COLUMN shipped_carrier character varying(100);

ALTER TABLE exchange_orders ADD COLUMN shipped_tracking character varying(64);
