-- Schema version 7: warehouse (unmatched parcels, inspections, unit dispositions, supplier batches) and money
-- (refunds with their per-line claims, gift cards and the store-credit ledger, exchange orders, the sandbox payment
-- provider's own ledger); product cost, the merchant's warehouse rules and payment sandbox, and receipt on returns.
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

ALTER TABLE merchants ADD COLUMN warehouse_rules_json character varying(100000);

ALTER TABLE merchants ADD COLUMN payment_sandbox_json character varying(2000);

ALTER TABLE products ADD COLUMN cost numeric(18,4);

ALTER TABLE returns ADD COLUMN received_at timestamp with time zone;

ALTER TABLE returns ADD COLUMN warehouse_code character varying(32);

CREATE TABLE gift_cards (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    code character varying(32) NOT NULL,
    customer_email character varying(320) NOT NULL,
    currency character varying(3) NOT NULL,
    initial_amount numeric(18,4) NOT NULL,
    balance numeric(18,4) NOT NULL,
    expires_at timestamp with time zone,
    refund_id uuid,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_gift_cards" PRIMARY KEY (id),
    CONSTRAINT "FK_gift_cards_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT
);

CREATE TABLE rtv_batches (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    supplier_code character varying(100) NOT NULL,
    supplier_name character varying(200) NOT NULL,
    warehouse_code character varying(32) NOT NULL,
    state character varying(16) NOT NULL,
    claim_deadline timestamp with time zone NOT NULL,
    units integer NOT NULL,
    value numeric(18,4) NOT NULL,
    currency character varying(3) NOT NULL,
    shipped_by character varying(200),
    shipped_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_rtv_batches" PRIMARY KEY (id),
    CONSTRAINT "FK_rtv_batches_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT
);

CREATE TABLE sandbox_payments (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    idempotency_key character varying(100) NOT NULL,
    reference character varying(100) NOT NULL,
    payment_reference character varying(100),
    amount numeric(18,4) NOT NULL,
    currency character varying(3) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_sandbox_payments" PRIMARY KEY (id),
    CONSTRAINT "FK_sandbox_payments_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT
);

CREATE TABLE unmatched_parcels (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    code character varying(200) NOT NULL,
    warehouse_code character varying(32) NOT NULL,
    received_by character varying(200),
    received_at timestamp with time zone NOT NULL,
    scans integer NOT NULL,
    notes character varying(2000),
    matched_return_id uuid,
    matched_rma character varying(16),
    matched_by character varying(200),
    matched_at timestamp with time zone,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_unmatched_parcels" PRIMARY KEY (id),
    CONSTRAINT "FK_unmatched_parcels_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT
);

CREATE TABLE store_credit_entries (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    customer_email character varying(320) NOT NULL,
    gift_card_id uuid NOT NULL,
    kind character varying(16) NOT NULL,
    amount numeric(18,4) NOT NULL,
    currency character varying(3) NOT NULL,
    refund_id uuid,
    reference character varying(100),
    balance_after numeric(18,4) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_store_credit_entries" PRIMARY KEY (id),
    CONSTRAINT "FK_store_credit_entries_gift_cards_gift_card_id" FOREIGN KEY (gift_card_id) REFERENCES gift_cards (id) ON DELETE RESTRICT
);

CREATE TABLE refunds (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    return_id uuid NOT NULL,
    rma character varying(16) NOT NULL,
    method character varying(32) NOT NULL,
    status character varying(16) NOT NULL,
    trigger character varying(16) NOT NULL,
    amount numeric(18,4) NOT NULL,
    currency character varying(3) NOT NULL,
    breakdown_json character varying(20000) NOT NULL,
    provider_key character varying(100) NOT NULL,
    payment_reference character varying(100),
    provider_reference character varying(100),
    gift_card_code character varying(32),
    attempts integer NOT NULL,
    next_attempt_at timestamp with time zone,
    last_error character varying(1000),
    needs_attention boolean NOT NULL,
    created_by character varying(200) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    issued_at timestamp with time zone,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_refunds" PRIMARY KEY (id),
    CONSTRAINT "FK_refunds_returns_return_id" FOREIGN KEY (return_id) REFERENCES returns (id) ON DELETE RESTRICT
);

CREATE TABLE exchange_orders (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    return_id uuid NOT NULL,
    refund_id uuid NOT NULL,
    number character varying(32) NOT NULL,
    original_order_number character varying(64) NOT NULL,
    lines_json character varying(8000) NOT NULL,
    new_total numeric(18,4) NOT NULL,
    returned_value numeric(18,4) NOT NULL,
    difference numeric(18,4) NOT NULL,
    amount_due numeric(18,4) NOT NULL,
    currency character varying(3) NOT NULL,
    status character varying(32) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_exchange_orders" PRIMARY KEY (id),
    CONSTRAINT "FK_exchange_orders_refunds_refund_id" FOREIGN KEY (refund_id) REFERENCES refunds (id) ON DELETE RESTRICT,
    CONSTRAINT "FK_exchange_orders_returns_return_id" FOREIGN KEY (return_id) REFERENCES returns (id) ON DELETE RESTRICT
);

CREATE TABLE inspections (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    return_id uuid NOT NULL,
    return_line_id uuid NOT NULL,
    order_line_ref character varying(64) NOT NULL,
    unit integer NOT NULL,
    grade character varying(32) NOT NULL,
    checklist_json character varying(4000) NOT NULL,
    notes character varying(2000),
    inspected_by character varying(200),
    inspected_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_inspections" PRIMARY KEY (id),
    CONSTRAINT "FK_inspections_return_lines_return_line_id" FOREIGN KEY (return_line_id) REFERENCES return_lines (id) ON DELETE RESTRICT,
    CONSTRAINT "FK_inspections_returns_return_id" FOREIGN KEY (return_id) REFERENCES returns (id) ON DELETE RESTRICT
);

CREATE TABLE refund_claims (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    refund_id uuid NOT NULL,
    return_line_id uuid NOT NULL,
    CONSTRAINT "PK_refund_claims" PRIMARY KEY (id),
    CONSTRAINT "FK_refund_claims_refunds_refund_id" FOREIGN KEY (refund_id) REFERENCES refunds (id) ON DELETE CASCADE,
    CONSTRAINT "FK_refund_claims_return_lines_return_line_id" FOREIGN KEY (return_line_id) REFERENCES return_lines (id) ON DELETE RESTRICT
);

CREATE TABLE unit_dispositions (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    return_id uuid NOT NULL,
    inspection_id uuid NOT NULL,
    order_line_ref character varying(64) NOT NULL,
    unit integer NOT NULL,
    sku character varying(100),
    category character varying(64) NOT NULL,
    grade character varying(32) NOT NULL,
    proposed character varying(32) NOT NULL,
    proposed_channel character varying(64) NOT NULL,
    explanation character varying(2000) NOT NULL,
    state character varying(16) NOT NULL,
    final character varying(32),
    channel character varying(64),
    override_reason character varying(2000),
    value numeric(18,4) NOT NULL,
    expected_recovery numeric(18,4),
    currency character varying(3) NOT NULL,
    supplier character varying(100),
    rtv_batch_id uuid,
    warehouse_code character varying(32) NOT NULL,
    confirmed_by character varying(200),
    confirmed_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_unit_dispositions" PRIMARY KEY (id),
    CONSTRAINT "FK_unit_dispositions_inspections_inspection_id" FOREIGN KEY (inspection_id) REFERENCES inspections (id) ON DELETE RESTRICT,
    CONSTRAINT "FK_unit_dispositions_returns_return_id" FOREIGN KEY (return_id) REFERENCES returns (id) ON DELETE RESTRICT
);

CREATE INDEX "IX_exchange_orders_refund_id" ON exchange_orders (refund_id);

CREATE UNIQUE INDEX "IX_exchange_orders_return_id" ON exchange_orders (return_id);

CREATE UNIQUE INDEX "IX_gift_cards_merchant_id_code" ON gift_cards (merchant_id, code);

CREATE INDEX "IX_gift_cards_merchant_id_customer_email" ON gift_cards (merchant_id, customer_email);

CREATE UNIQUE INDEX "IX_gift_cards_refund_id" ON gift_cards (refund_id);

CREATE INDEX "IX_inspections_return_id" ON inspections (return_id);

CREATE UNIQUE INDEX "IX_inspections_return_line_id_unit" ON inspections (return_line_id, unit);

CREATE INDEX "IX_refund_claims_refund_id" ON refund_claims (refund_id);

CREATE UNIQUE INDEX "IX_refund_claims_return_line_id" ON refund_claims (return_line_id);

CREATE INDEX "IX_refunds_merchant_id_status_created_at" ON refunds (merchant_id, status, created_at);

CREATE UNIQUE INDEX "IX_refunds_provider_key" ON refunds (provider_key);

CREATE INDEX "IX_refunds_return_id" ON refunds (return_id);

CREATE INDEX "IX_refunds_status_next_attempt_at" ON refunds (status, next_attempt_at);

CREATE INDEX "IX_rtv_batches_merchant_id_state_claim_deadline" ON rtv_batches (merchant_id, state, claim_deadline);

CREATE UNIQUE INDEX "IX_rtv_batches_merchant_id_supplier_code_warehouse_code" ON rtv_batches (merchant_id, supplier_code, warehouse_code) WHERE state = 'open';

CREATE UNIQUE INDEX "IX_sandbox_payments_merchant_id_idempotency_key" ON sandbox_payments (merchant_id, idempotency_key);

CREATE INDEX "IX_store_credit_entries_gift_card_id" ON store_credit_entries (gift_card_id);

CREATE INDEX "IX_store_credit_entries_merchant_id_customer_email_created_at" ON store_credit_entries (merchant_id, customer_email, created_at);

CREATE UNIQUE INDEX "IX_unit_dispositions_inspection_id" ON unit_dispositions (inspection_id);

CREATE INDEX "IX_unit_dispositions_merchant_id_state_confirmed_at" ON unit_dispositions (merchant_id, state, confirmed_at);

CREATE INDEX "IX_unit_dispositions_return_id" ON unit_dispositions (return_id);

CREATE UNIQUE INDEX "IX_unmatched_parcels_merchant_id_code" ON unmatched_parcels (merchant_id, code);

CREATE INDEX "IX_unmatched_parcels_merchant_id_matched_at_received_at" ON unmatched_parcels (merchant_id, matched_at, received_at);
