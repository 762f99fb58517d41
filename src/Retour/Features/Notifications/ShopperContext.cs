using System.Globalization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Retour.Features.Portal;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Localization;

namespace Retour.Features.Notifications;

/// <summary>
/// What every email to a shopper starts from: their language (the return's, among the shop's languages), the greeting
/// by name, and the signed link to the return's status page in that language.
/// </summary>
public sealed record ShopperContext(string Locale, CultureInfo Culture, string? Name, string Greeting, string StatusPath, string StatusUrl)
{
    public static async Task<ShopperContext> ForAsync(RetourDb db, Texts texts, MerchantInfo merchant, IDataProtectionProvider protection, RetourSettings settings,
        Return ret, CancellationToken ct)
    {
        var locale = Texts.Choose(null, null, ret.Locale, merchant.DefaultLocale, merchant.Locales);
        var name = await db.Orders.AsNoTracking().Where(o => o.Id == ret.OrderId).Select(o => o.CustomerName).FirstOrDefaultAsync(ct);
        var greeting = string.IsNullOrWhiteSpace(name) ? texts.Get(locale, "email.greeting_anonymous") : texts.Get(locale, "email.greeting", ("name", name));
        var path = PortalPage.StatusUrl(protection, merchant.Slug, merchant.Id, ret.Rma);
        return new ShopperContext(locale, Texts.Culture(locale), name, greeting, path, settings.PublicUrl + path + "&lang=" + locale);
    }
}
