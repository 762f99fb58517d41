-- Schema version 6: failed pickups (NDR cases), the merchant's rules for them, re-booked pickups on the shipment,
-- and the key of signed tracking batches.
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

ALTER TABLE merchants ADD COLUMN pickup_max_attempts integer NOT NULL DEFAULT 3;

ALTER TABLE merchants ADD COLUMN pickup_answer_hours integer NOT NULL DEFAULT 48;

ALTER TABLE merchants ADD COLUMN sandbox_secret character varying(255);

ALTER TABLE shipments ADD COLUMN pickup_rebooks integer NOT NULL DEFAULT 0;

ALTER TABLE shipments ADD COLUMN rebooked_at timestamp with time zone;

CREATE TABLE ndr_cases (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    return_id uuid NOT NULL,
    shipment_id uuid NOT NULL,
    rma character varying(16) NOT NULL,
    carrier_code character varying(32) NOT NULL,
    attempt integer NOT NULL,
    reason character varying(32) NOT NULL,
    raw_code character varying(200) NOT NULL,
    message character varying(1000),
    state character varying(32) NOT NULL,
    answer_by timestamp with time zone,
    action character varying(32),
    answered_by character varying(200),
    answered_at timestamp with time zone,
    requested_date date,
    escalation_reason character varying(500),
    escalated_at timestamp with time zone,
    rebooked_at timestamp with time zone,
    rebook_error character varying(1000),
    failed_at timestamp with time zone NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_ndr_cases" PRIMARY KEY (id),
    CONSTRAINT "FK_ndr_cases_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT,
    CONSTRAINT "FK_ndr_cases_returns_return_id" FOREIGN KEY (return_id) REFERENCES returns (id) ON DELETE RESTRICT,
    CONSTRAINT "FK_ndr_cases_shipments_shipment_id" FOREIGN KEY (shipment_id) REFERENCES shipments (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX "IX_ndr_cases_shipment_id_attempt" ON ndr_cases (shipment_id, attempt);

CREATE INDEX "IX_ndr_cases_merchant_id_state_created_at" ON ndr_cases (merchant_id, state, created_at);

CREATE INDEX "IX_ndr_cases_return_id" ON ndr_cases (return_id);

CREATE INDEX "IX_ndr_cases_answer_by" ON ndr_cases (answer_by);
