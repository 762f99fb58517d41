-- Schema version 9: outgoing webhooks (endpoints per merchant and their delivery log).
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

CREATE TABLE webhook_endpoints (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    url character varying(2000) NOT NULL,
    events_json character varying(4000) NOT NULL,
    description character varying(500),
    secret character varying(100) NOT NULL,
    active boolean NOT NULL,
    disabled_reason character varying(500),
    disabled_at timestamp with time zone,
    consecutive_failures integer NOT NULL,
    last_success_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_webhook_endpoints" PRIMARY KEY (id),
    CONSTRAINT "FK_webhook_endpoints_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT
);

CREATE TABLE webhook_deliveries (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    endpoint_id uuid NOT NULL,
    event_id uuid NOT NULL,
    event_type character varying(64) NOT NULL,
    body character varying(200000) NOT NULL,
    status character varying(16) NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamp with time zone,
    last_status_code integer,
    last_error character varying(1000),
    last_response character varying(1000),
    last_duration_ms double precision,
    last_attempt_at timestamp with time zone,
    delivered_at timestamp with time zone,
    replayed_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_webhook_deliveries" PRIMARY KEY (id),
    CONSTRAINT "FK_webhook_deliveries_webhook_endpoints_endpoint_id" FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints (id) ON DELETE CASCADE
);

CREATE INDEX "IX_webhook_deliveries_endpoint_id_created_at" ON webhook_deliveries (endpoint_id, created_at);

CREATE UNIQUE INDEX "IX_webhook_deliveries_endpoint_id_event_id" ON webhook_deliveries (endpoint_id, event_id);

CREATE INDEX "IX_webhook_deliveries_status_next_attempt_at" ON webhook_deliveries (status, next_attempt_at);

CREATE INDEX "IX_webhook_endpoints_merchant_id_created_at" ON webhook_endpoints (merchant_id, created_at);
