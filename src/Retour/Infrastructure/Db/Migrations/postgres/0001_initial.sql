-- Schema version 1: the returns core (merchants, keys, orders, policies, returns, audit, outbox).
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

CREATE TABLE audit_events (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    entity_type character varying(32) NOT NULL,
    entity_id uuid NOT NULL,
    action character varying(64) NOT NULL,
    from_state character varying(32),
    to_state character varying(32),
    actor_type character varying(16) NOT NULL,
    actor_id character varying(64),
    actor_name character varying(200),
    reason character varying(2000),
    data_json text,
    occurred_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_audit_events" PRIMARY KEY (id)
);


CREATE TABLE idempotency_records (
    merchant_id uuid NOT NULL,
    key character varying(255) NOT NULL,
    request_hash character varying(64) NOT NULL,
    status_code integer NOT NULL,
    response_body text NOT NULL,
    location character varying(500),
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_idempotency_records" PRIMARY KEY (merchant_id, key)
);


CREATE TABLE merchants (
    id uuid NOT NULL,
    slug character varying(64) NOT NULL,
    name character varying(200) NOT NULL,
    currency character varying(3) NOT NULL,
    time_zone character varying(64) NOT NULL,
    default_locale character varying(10) NOT NULL,
    supported_locales character varying(100) NOT NULL,
    brand_color character varying(16),
    logo_url character varying(500),
    shopify_domain character varying(255),
    shopify_secret character varying(255),
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_merchants" PRIMARY KEY (id)
);


CREATE TABLE outbox_deliveries (
    message_id uuid NOT NULL,
    handler character varying(100) NOT NULL,
    processed_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_outbox_deliveries" PRIMARY KEY (message_id, handler)
);


CREATE TABLE outbox_messages (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    type character varying(64) NOT NULL,
    payload text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    available_at timestamp with time zone NOT NULL,
    attempts integer NOT NULL,
    processed_at timestamp with time zone,
    dead_at timestamp with time zone,
    last_error character varying(2000),
    CONSTRAINT "PK_outbox_messages" PRIMARY KEY (id)
);


CREATE TABLE webhook_receipts (
    merchant_id uuid NOT NULL,
    provider character varying(32) NOT NULL,
    external_id character varying(128) NOT NULL,
    received_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_webhook_receipts" PRIMARY KEY (merchant_id, provider, external_id)
);


CREATE TABLE api_keys (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    name character varying(100) NOT NULL,
    prefix character varying(16) NOT NULL,
    hash character varying(64) NOT NULL,
    scopes character varying(1000) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT "PK_api_keys" PRIMARY KEY (id),
    CONSTRAINT "FK_api_keys_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT
);


CREATE TABLE carriers (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    code character varying(32) NOT NULL,
    name character varying(100) NOT NULL,
    adapter character varying(32) NOT NULL,
    services character varying(100) NOT NULL,
    countries character varying(1000) NOT NULL,
    transit_days integer NOT NULL,
    active boolean NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_carriers" PRIMARY KEY (id),
    CONSTRAINT "FK_carriers_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT
);


CREATE TABLE orders (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    number character varying(64) NOT NULL,
    external_id character varying(64),
    source character varying(16) NOT NULL,
    placed_at timestamp with time zone NOT NULL,
    delivered_at timestamp with time zone,
    fulfilled_at timestamp with time zone,
    cancelled_at timestamp with time zone,
    currency character varying(3) NOT NULL,
    customer_email character varying(320),
    customer_name character varying(200),
    customer_phone character varying(40),
    customer_locale character varying(10),
    ship_name character varying(200),
    ship_line1 character varying(200),
    ship_line2 character varying(200),
    ship_city character varying(100),
    ship_region character varying(100),
    ship_postal_code character varying(20),
    ship_country character varying(2),
    ship_phone character varying(40),
    shipping_total numeric(18,4) NOT NULL,
    payment_reference character varying(100),
    external_updated_at timestamp with time zone,
    version integer NOT NULL,
    return_count integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_orders" PRIMARY KEY (id),
    CONSTRAINT "FK_orders_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT
);


CREATE TABLE policy_versions (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    version integer NOT NULL,
    document_json text NOT NULL,
    effective_from timestamp with time zone NOT NULL,
    created_at timestamp with time zone NOT NULL,
    created_by character varying(200) NOT NULL,
    CONSTRAINT "PK_policy_versions" PRIMARY KEY (id),
    CONSTRAINT "FK_policy_versions_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT
);


CREATE TABLE products (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    sku character varying(100) NOT NULL,
    product_code character varying(100) NOT NULL,
    title character varying(300) NOT NULL,
    category character varying(64) NOT NULL,
    variant_json character varying(2000),
    price numeric(18,4) NOT NULL,
    final_sale boolean NOT NULL,
    stock integer NOT NULL,
    supplier character varying(100),
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_products" PRIMARY KEY (id),
    CONSTRAINT "FK_products_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT
);


CREATE TABLE order_lines (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    order_id uuid NOT NULL,
    line_ref character varying(64) NOT NULL,
    position integer NOT NULL,
    sku character varying(100),
    product_code character varying(100),
    title character varying(300) NOT NULL,
    category character varying(64) NOT NULL,
    variant_json character varying(2000),
    quantity integer NOT NULL,
    unit_price numeric(18,4) NOT NULL,
    tax numeric(18,4) NOT NULL,
    discount numeric(18,4) NOT NULL,
    final_sale boolean NOT NULL,
    refunded_quantity integer NOT NULL,
    returned_quantity integer NOT NULL,
    CONSTRAINT "PK_order_lines" PRIMARY KEY (id),
    CONSTRAINT "FK_order_lines_orders_order_id" FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE
);


CREATE TABLE store_refunds (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    order_id uuid NOT NULL,
    external_id character varying(64) NOT NULL,
    line_ref character varying(64) NOT NULL,
    quantity integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_store_refunds" PRIMARY KEY (id),
    CONSTRAINT "FK_store_refunds_orders_order_id" FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE
);


CREATE TABLE returns (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    rma character varying(16) NOT NULL,
    order_id uuid NOT NULL,
    order_number character varying(64) NOT NULL,
    customer_email character varying(320),
    status character varying(32) NOT NULL,
    resolution character varying(32) NOT NULL,
    method character varying(32) NOT NULL,
    policy_version_id uuid NOT NULL,
    policy_version integer NOT NULL,
    currency character varying(3) NOT NULL,
    estimate_total numeric(18,4) NOT NULL,
    estimate_json text NOT NULL,
    decision_outcome character varying(32) NOT NULL,
    decision_json text NOT NULL,
    flags character varying(500) NOT NULL,
    locale character varying(10),
    created_by character varying(200) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    status_changed_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_returns" PRIMARY KEY (id),
    CONSTRAINT "FK_returns_orders_order_id" FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE RESTRICT,
    CONSTRAINT "FK_returns_policy_versions_policy_version_id" FOREIGN KEY (policy_version_id) REFERENCES policy_versions (id) ON DELETE RESTRICT
);


CREATE TABLE return_lines (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    return_id uuid NOT NULL,
    order_line_id uuid NOT NULL,
    order_line_ref character varying(64) NOT NULL,
    sku character varying(100),
    title character varying(300) NOT NULL,
    category character varying(64) NOT NULL,
    quantity integer NOT NULL,
    reason character varying(32) NOT NULL,
    sub_reason character varying(64),
    comment character varying(2000),
    CONSTRAINT "PK_return_lines" PRIMARY KEY (id),
    CONSTRAINT "FK_return_lines_order_lines_order_line_id" FOREIGN KEY (order_line_id) REFERENCES order_lines (id) ON DELETE RESTRICT,
    CONSTRAINT "FK_return_lines_returns_return_id" FOREIGN KEY (return_id) REFERENCES returns (id) ON DELETE CASCADE
);


CREATE UNIQUE INDEX "IX_api_keys_hash" ON api_keys (hash);


CREATE INDEX "IX_api_keys_merchant_id" ON api_keys (merchant_id);


CREATE INDEX "IX_audit_events_merchant_id_entity_id_occurred_at" ON audit_events (merchant_id, entity_id, occurred_at);


CREATE UNIQUE INDEX "IX_carriers_merchant_id_code" ON carriers (merchant_id, code);


CREATE UNIQUE INDEX "IX_merchants_shopify_domain" ON merchants (shopify_domain);


CREATE UNIQUE INDEX "IX_merchants_slug" ON merchants (slug);


CREATE UNIQUE INDEX "IX_order_lines_order_id_line_ref" ON order_lines (order_id, line_ref);


CREATE INDEX "IX_orders_merchant_id_customer_email_placed_at" ON orders (merchant_id, customer_email, placed_at);


CREATE UNIQUE INDEX "IX_orders_merchant_id_external_id" ON orders (merchant_id, external_id);


CREATE UNIQUE INDEX "IX_orders_merchant_id_number" ON orders (merchant_id, number);


CREATE INDEX "IX_orders_merchant_id_updated_at_id" ON orders (merchant_id, updated_at, id);


CREATE INDEX "IX_outbox_messages_pending" ON outbox_messages (available_at) WHERE processed_at IS NULL AND dead_at IS NULL;


CREATE INDEX "IX_policy_versions_merchant_id_effective_from" ON policy_versions (merchant_id, effective_from);


CREATE UNIQUE INDEX "IX_policy_versions_merchant_id_version" ON policy_versions (merchant_id, version);


CREATE INDEX "IX_products_merchant_id_product_code" ON products (merchant_id, product_code);


CREATE UNIQUE INDEX "IX_products_merchant_id_sku" ON products (merchant_id, sku);


CREATE INDEX "IX_return_lines_order_line_id" ON return_lines (order_line_id);


CREATE INDEX "IX_return_lines_return_id" ON return_lines (return_id);


CREATE INDEX "IX_returns_merchant_id_status_updated_at" ON returns (merchant_id, status, updated_at);


CREATE INDEX "IX_returns_merchant_id_updated_at_id" ON returns (merchant_id, updated_at, id);


CREATE INDEX "IX_returns_order_id" ON returns (order_id);


CREATE INDEX "IX_returns_policy_version_id" ON returns (policy_version_id);


CREATE UNIQUE INDEX "IX_returns_rma" ON returns (rma);


CREATE UNIQUE INDEX "IX_store_refunds_order_id_external_id_line_ref" ON store_refunds (order_id, external_id, line_ref);



