-- Schema version 10: notifications to shoppers (rendered once, in their language) and their delivery log.
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

CREATE TABLE notifications (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    return_id uuid,
    event_id uuid NOT NULL,
    template character varying(64) NOT NULL,
    channel character varying(16) NOT NULL,
    recipient character varying(320) NOT NULL,
    locale character varying(10) NOT NULL,
    subject character varying(500) NOT NULL,
    body character varying(20000) NOT NULL,
    status character varying(16) NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamp with time zone,
    last_error character varying(1000),
    sent_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_notifications" PRIMARY KEY (id),
    CONSTRAINT "FK_notifications_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT
);

CREATE UNIQUE INDEX "IX_notifications_event_id_template_channel_recipient" ON notifications (event_id, template, channel, recipient);

CREATE INDEX "IX_notifications_merchant_id_return_id_created_at" ON notifications (merchant_id, return_id, created_at);

CREATE INDEX "IX_notifications_status_next_attempt_at" ON notifications (status, next_attempt_at);
