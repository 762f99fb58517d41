namespace Retour.Infrastructure.Db;

/// <summary>Every row that belongs to a merchant. The DbContext filters reads and checks writes by it.</summary>
public interface ITenantOwned
{
    Guid MerchantId { get; set; }
}

/// <summary>
/// The merchant this unit of work acts for, set once by authentication (API key), by the portal's slug,
/// or by a background job from its message. Empty means "no merchant": tenant-owned queries then see nothing.
/// </summary>
public sealed class TenantContext
{
    public Guid MerchantId { get; private set; }

    public void Set(Guid merchantId)
    {
        if (MerchantId != Guid.Empty && MerchantId != merchantId)
            throw new InvalidOperationException("The tenant of a unit of work cannot change once set.");
        MerchantId = merchantId;
    }
}

public sealed class CrossTenantWriteException(string entity) :
    InvalidOperationException($"Refused to write a {entity} that belongs to another merchant.");
