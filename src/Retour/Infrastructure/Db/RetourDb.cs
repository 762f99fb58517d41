using Retour.Features.Notifications;
using Retour.Features.Webhooks;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Returns;
using Retour.Features.Carriers;
using Retour.Features.Catalog;
using Retour.Features.Orders;
using Retour.Features.Policies;
using Retour.Features.Portal;
using Retour.Features.Warehouses;
using Retour.Features.Refunds;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Outbox;
using Retour.Infrastructure.Security;

namespace Retour.Infrastructure.Db;

/// <summary>
/// One model on SQLite and PostgreSQL. Tenant-owned rows are filtered by <see cref="TenantContext"/> on every read
/// and checked on every write, so a merchant's unit of work cannot touch another merchant's rows.
/// </summary>
public sealed class RetourDb(DbContextOptions<RetourDb> options, TenantContext tenant, OutboxSignal signal, RetourSettings settings) : DbContext(options)
{
    public DbSet<Merchant> Merchants => Set<Merchant>();
    public DbSet<MerchantLogo> MerchantLogos => Set<MerchantLogo>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Order> Orders => Set<Order>();
    public DbSet<OrderLine> OrderLines => Set<OrderLine>();
    public DbSet<StoreRefund> StoreRefunds => Set<StoreRefund>();
    public DbSet<Product> Products => Set<Product>();
    public DbSet<Carrier> Carriers => Set<Carrier>();
    public DbSet<Shipment> Shipments => Set<Shipment>();
    public DbSet<TrackingEvent> TrackingEvents => Set<TrackingEvent>();
    public DbSet<NdrCase> NdrCases => Set<NdrCase>();
    public DbSet<PolicyVersion> PolicyVersions => Set<PolicyVersion>();
    public DbSet<Return> Returns => Set<Return>();
    public DbSet<ReturnLine> ReturnLines => Set<ReturnLine>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();
    public DbSet<OutboxDelivery> OutboxDeliveries => Set<OutboxDelivery>();
    public DbSet<IdempotencyRecord> IdempotencyRecords => Set<IdempotencyRecord>();
    public DbSet<WebhookReceipt> WebhookReceipts => Set<WebhookReceipt>();
    public DbSet<Warehouse> Warehouses => Set<Warehouse>();
    public DbSet<PortalSession> PortalSessions => Set<PortalSession>();
    public DbSet<Photo> Photos => Set<Photo>();
    public DbSet<LookupFailure> LookupFailures => Set<LookupFailure>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<UnmatchedParcel> UnmatchedParcels => Set<UnmatchedParcel>();
    public DbSet<Inspection> Inspections => Set<Inspection>();
    public DbSet<UnitDisposition> UnitDispositions => Set<UnitDisposition>();
    public DbSet<RtvBatch> RtvBatches => Set<RtvBatch>();
    public DbSet<Refund> Refunds => Set<Refund>();
    public DbSet<RefundClaim> RefundClaims => Set<RefundClaim>();
    public DbSet<GiftCard> GiftCards => Set<GiftCard>();
    public DbSet<StoreCreditEntry> StoreCreditEntries => Set<StoreCreditEntry>();
    public DbSet<ExchangeOrder> ExchangeOrders => Set<ExchangeOrder>();
    public DbSet<SandboxPayment> SandboxPayments => Set<SandboxPayment>();
    public DbSet<WebhookEndpoint> WebhookEndpoints => Set<WebhookEndpoint>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<Notification> Notifications => Set<Notification>();
    public DbSet<NotificationTemplate> NotificationTemplates => Set<NotificationTemplate>();
    public DbSet<Features.Staff.StaffUser> StaffUsers => Set<Features.Staff.StaffUser>();
    public DbSet<Features.Staff.StaffMembership> StaffMemberships => Set<Features.Staff.StaffMembership>();
    public DbSet<Features.Staff.StaffInvitation> StaffInvitations => Set<Features.Staff.StaffInvitation>();
    public DbSet<Features.Staff.ReturnNote> ReturnNotes => Set<Features.Staff.ReturnNote>();
    public DbSet<Features.Staff.SavedView> SavedViews => Set<Features.Staff.SavedView>();
    public DbSet<Features.Analytics.AnalyticsRollup> AnalyticsRollups => Set<Features.Analytics.AnalyticsRollup>();
    public DbSet<Features.Analytics.AnalyticsFact> AnalyticsFacts => Set<Features.Analytics.AnalyticsFact>();
    public DbSet<Features.Analytics.AnalyticsPending> AnalyticsPending => Set<Features.Analytics.AnalyticsPending>();
    public DbSet<Features.Analytics.AnalyticsShopper> AnalyticsShoppers => Set<Features.Analytics.AnalyticsShopper>();

    public TenantContext Tenant => tenant;

    // Read by the query filters on every query, so it is a parameter, never a constant baked into the model.
    private Guid CurrentMerchantId => tenant.MerchantId;

    protected override void ConfigureConventions(ModelConfigurationBuilder b)
    {
        // SQLite has no time type; EF stores DateTimeOffset as text that neither sorts nor compares in SQL.
        // Microseconds since the Unix epoch sort, compare and keep PostgreSQL's precision.
        if (!IsPostgres) b.Properties<DateTimeOffset>().HaveConversion<UnixMicrosConverter>();
    }

    protected override void OnModelCreating(ModelBuilder mb)
    {
        mb.ApplyConfiguration(new Merchant.Config());
        mb.ApplyConfiguration(new MerchantLogo.Config());
        mb.ApplyConfiguration(new ApiKey.Config());
        mb.ApplyConfiguration(new Order.Config());
        mb.ApplyConfiguration(new OrderLine.Config());
        mb.ApplyConfiguration(new StoreRefund.Config());
        mb.ApplyConfiguration(new Product.Config());
        mb.ApplyConfiguration(new Carrier.Config());
        mb.ApplyConfiguration(new Shipment.Config());
        mb.ApplyConfiguration(new TrackingEvent.Config());
        mb.ApplyConfiguration(new NdrCase.Config());
        mb.ApplyConfiguration(new PolicyVersion.Config());
        mb.ApplyConfiguration(new Return.Config());
        mb.ApplyConfiguration(new ReturnLine.Config());
        mb.ApplyConfiguration(new AuditEvent.Config());
        mb.ApplyConfiguration(new OutboxMessage.Config());
        mb.ApplyConfiguration(new OutboxDelivery.Config());
        mb.ApplyConfiguration(new IdempotencyRecord.Config());
        mb.ApplyConfiguration(new WebhookReceipt.Config());
        mb.ApplyConfiguration(new Warehouse.Config());
        mb.ApplyConfiguration(new PortalSession.Config());
        mb.ApplyConfiguration(new Photo.Config());
        mb.ApplyConfiguration(new LookupFailure.Config());
        mb.ApplyConfiguration(new DataProtectionKey.Config());
        mb.ApplyConfiguration(new UnmatchedParcel.Config());
        mb.ApplyConfiguration(new Inspection.Config());
        mb.ApplyConfiguration(new UnitDisposition.Config());
        mb.ApplyConfiguration(new RtvBatch.Config());
        mb.ApplyConfiguration(new Refund.Config());
        mb.ApplyConfiguration(new RefundClaim.Config());
        mb.ApplyConfiguration(new GiftCard.Config());
        mb.ApplyConfiguration(new StoreCreditEntry.Config());
        mb.ApplyConfiguration(new ExchangeOrder.Config());
        mb.ApplyConfiguration(new SandboxPayment.Config());
        mb.ApplyConfiguration(new WebhookEndpoint.Config());
        mb.ApplyConfiguration(new WebhookDelivery.Config());
        mb.ApplyConfiguration(new Notification.Config());
        mb.ApplyConfiguration(new NotificationTemplate.Config());
        mb.ApplyConfiguration(new Features.Staff.StaffUser.Config());
        mb.ApplyConfiguration(new Features.Staff.StaffMembership.Config());
        mb.ApplyConfiguration(new Features.Staff.StaffInvitation.Config());
        mb.ApplyConfiguration(new Features.Staff.ReturnNote.Config());
        mb.ApplyConfiguration(new Features.Staff.SavedView.Config());
        mb.ApplyConfiguration(new Features.Analytics.AnalyticsRollup.Config());
        mb.ApplyConfiguration(new Features.Analytics.AnalyticsFact.Config());
        mb.ApplyConfiguration(new Features.Analytics.AnalyticsPending.Config());
        mb.ApplyConfiguration(new Features.Analytics.AnalyticsShopper.Config());

        TenantFilter<ApiKey>(mb);
        TenantFilter<Order>(mb);
        TenantFilter<OrderLine>(mb);
        TenantFilter<StoreRefund>(mb);
        TenantFilter<Product>(mb);
        TenantFilter<Carrier>(mb);
        TenantFilter<Shipment>(mb);
        TenantFilter<TrackingEvent>(mb);
        TenantFilter<NdrCase>(mb);
        TenantFilter<PolicyVersion>(mb);
        TenantFilter<Return>(mb);
        TenantFilter<ReturnLine>(mb);
        TenantFilter<AuditEvent>(mb);
        TenantFilter<IdempotencyRecord>(mb);
        TenantFilter<WebhookReceipt>(mb);
        TenantFilter<Warehouse>(mb);
        TenantFilter<PortalSession>(mb);
        TenantFilter<Photo>(mb);
        TenantFilter<MerchantLogo>(mb);
        TenantFilter<UnmatchedParcel>(mb);
        TenantFilter<Inspection>(mb);
        TenantFilter<WebhookEndpoint>(mb);
        TenantFilter<WebhookDelivery>(mb);
        TenantFilter<Notification>(mb);
        TenantFilter<NotificationTemplate>(mb);
        TenantFilter<UnitDisposition>(mb);
        TenantFilter<RtvBatch>(mb);
        TenantFilter<Refund>(mb);
        TenantFilter<RefundClaim>(mb);
        TenantFilter<GiftCard>(mb);
        TenantFilter<StoreCreditEntry>(mb);
        TenantFilter<ExchangeOrder>(mb);
        TenantFilter<SandboxPayment>(mb);
        TenantFilter<Features.Staff.StaffMembership>(mb);
        TenantFilter<Features.Staff.StaffInvitation>(mb);
        TenantFilter<Features.Staff.ReturnNote>(mb);
        TenantFilter<Features.Staff.SavedView>(mb);
        TenantFilter<Features.Analytics.AnalyticsRollup>(mb);
        TenantFilter<Features.Analytics.AnalyticsFact>(mb);
        TenantFilter<Features.Analytics.AnalyticsShopper>(mb);

        SnakeCaseNames.Apply(mb, new Dictionary<Type, string>
        {
            [typeof(Merchant)] = "merchants",
            [typeof(MerchantLogo)] = "merchant_logos",
            [typeof(ApiKey)] = "api_keys",
            [typeof(Order)] = "orders",
            [typeof(OrderLine)] = "order_lines",
            [typeof(StoreRefund)] = "store_refunds",
            [typeof(Product)] = "products",
            [typeof(Carrier)] = "carriers",
            [typeof(Shipment)] = "shipments",
            [typeof(TrackingEvent)] = "tracking_events",
            [typeof(NdrCase)] = "ndr_cases",
            [typeof(PolicyVersion)] = "policy_versions",
            [typeof(Return)] = "returns",
            [typeof(ReturnLine)] = "return_lines",
            [typeof(AuditEvent)] = "audit_events",
            [typeof(OutboxMessage)] = "outbox_messages",
            [typeof(OutboxDelivery)] = "outbox_deliveries",
            [typeof(IdempotencyRecord)] = "idempotency_records",
            [typeof(WebhookReceipt)] = "webhook_receipts",
            [typeof(Warehouse)] = "warehouses",
            [typeof(PortalSession)] = "portal_sessions",
            [typeof(Photo)] = "photos",
            [typeof(LookupFailure)] = "lookup_failures",
            [typeof(DataProtectionKey)] = "data_protection_keys",
            [typeof(UnmatchedParcel)] = "unmatched_parcels",
            [typeof(Inspection)] = "inspections",
            [typeof(UnitDisposition)] = "unit_dispositions",
            [typeof(RtvBatch)] = "rtv_batches",
            [typeof(Refund)] = "refunds",
            [typeof(RefundClaim)] = "refund_claims",
            [typeof(GiftCard)] = "gift_cards",
            [typeof(StoreCreditEntry)] = "store_credit_entries",
            [typeof(ExchangeOrder)] = "exchange_orders",
            [typeof(SandboxPayment)] = "sandbox_payments",
            [typeof(WebhookEndpoint)] = "webhook_endpoints",
            [typeof(WebhookDelivery)] = "webhook_deliveries",
            [typeof(Notification)] = "notifications",
            [typeof(NotificationTemplate)] = "notification_templates",
            [typeof(Features.Staff.StaffUser)] = "staff_users",
            [typeof(Features.Staff.StaffMembership)] = "staff_memberships",
            [typeof(Features.Staff.StaffInvitation)] = "staff_invitations",
            [typeof(Features.Staff.ReturnNote)] = "return_notes",
            [typeof(Features.Staff.SavedView)] = "saved_views",
            [typeof(Features.Analytics.AnalyticsRollup)] = "analytics_rollups",
            [typeof(Features.Analytics.AnalyticsFact)] = "analytics_facts",
            [typeof(Features.Analytics.AnalyticsPending)] = "analytics_pending",
            [typeof(Features.Analytics.AnalyticsShopper)] = "analytics_shoppers",
        });
    }

    private void TenantFilter<T>(ModelBuilder mb) where T : class, ITenantOwned =>
        mb.Entity<T>().HasQueryFilter(x => x.MerchantId == CurrentMerchantId);

    /// <summary>Queues an event in this unit of work; it commits, or not, with the change.</summary>
    public OutboxMessage Publish(string type, object payload, DateTimeOffset now, Guid? merchantId = null)
    {
        var message = OutboxMessage.Create(merchantId ?? tenant.MerchantId, type, payload, now);
        OutboxMessages.Add(message);
        return message;
    }

    /// <summary>For writes that bypass SaveChanges (hand-written SQL): wake the relay after they commit.</summary>
    public void NotifyOutbox() => signal.Notify();

    /// <summary>
    /// SQLite has one writer at a time; when two collide, Microsoft.Data.Sqlite sleeps and retries, which turns into
    /// long tail latencies. Embedded mode is one process, so its writers queue here instead: one gate per database
    /// (two hosts in one process, as in the tests, on two files never wait for each other).
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> SqliteGates = new();

    private SemaphoreSlim SqliteGate => SqliteGates.GetOrAdd(settings.ConnectionString, _ => new SemaphoreSlim(1, 1));

    /// <summary>
    /// Takes this database's writer slot on SQLite (nothing on PostgreSQL, whose rows lock themselves): hold it across
    /// hand-written writes or a whole transaction. Inside a transaction that already holds it, do not take it again.
    /// </summary>
    public async ValueTask<WriteSlot> WriteSlotAsync(CancellationToken ct)
    {
        if (IsPostgres) return default;
        var gate = SqliteGate;
        await gate.WaitAsync(ct);
        return new WriteSlot(gate);
    }

    /// <summary>The writer slot of <see cref="WriteSlotAsync"/>; disposing it lets the next writer in.</summary>
    public readonly struct WriteSlot(SemaphoreSlim? gate) : IDisposable
    {
        public void Dispose() => gate?.Release();
    }

    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        var publishes = CheckTenancy();
        int n;
        // Inside a transaction the caller holds the slot already (or, on PostgreSQL, needs none).
        using (Database.CurrentTransaction is null ? await WriteSlotAsync(cancellationToken) : default)
            n = await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
        if (publishes) signal.Notify();
        return n;
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        var publishes = CheckTenancy();
        var n = base.SaveChanges(acceptAllChangesOnSuccess);
        if (publishes) signal.Notify();
        return n;
    }

    /// <summary>Stamps new rows with the current merchant and refuses writes to any other merchant's rows.</summary>
    private bool CheckTenancy()
    {
        var publishes = false;
        foreach (var entry in ChangeTracker.Entries())
        {
            if (entry.State is EntityState.Unchanged or EntityState.Detached) continue;
            if (entry.Entity is OutboxMessage) publishes = true;
            if (entry.Entity is not ITenantOwned owned) continue;
            if (entry.State == EntityState.Added && owned.MerchantId == Guid.Empty && tenant.MerchantId != Guid.Empty)
                owned.MerchantId = tenant.MerchantId;
            if (owned.MerchantId != tenant.MerchantId)
                throw new CrossTenantWriteException(entry.Metadata.ClrType.Name);
        }
        return publishes;
    }

    /// <summary>From the settings, not from EF: asking EF for its provider initialises the whole context.</summary>
    public bool IsPostgres => settings.Provider == DbProvider.Postgres;
}
