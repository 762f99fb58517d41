using Microsoft.AspNetCore.Mvc;
using Retour.Core.Policies;
using Retour.Features.Policies;

namespace Retour.Features.Portal.Pages;

/// <summary>The public return policy, generated from the current policy version, in the shopper's language.</summary>
public sealed class PolicyModel : PortalPage
{
    public ReturnPolicy Policy { get; private set; } = null!;
    public PolicyVersion Version { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync()
    {
        Title = T("policy.title", ("shop", Merchant.Name));
        var current = await HttpContext.RequestServices.GetRequiredService<PolicyBook>().CurrentAsync(Db, HttpContext.RequestAborted);
        if (current is null) return NotFound();
        (Version, Policy) = (current.Value.Row, current.Value.Policy);
        // Cacheable for a minute, but per language: the language comes from ?lang (in the URL), the cookie or Accept-Language.
        Response.Headers.CacheControl = "public, max-age=60";
        Response.Headers.Remove("Pragma");
        Response.Headers.Vary = "Accept-Language, Cookie";
        return Page();
    }

    public string Fee(Fee f) => f.Value == 0 ? T("policy.fee_none")
        : f.Type == FeeKind.Percent ? T("policy.fee_percent", ("percent", (f.Value / 100m).ToString("P0", Culture)))
        : T("policy.fee_fixed", ("amount", Money(f.Value, Merchant.Currency)));

    public string Category(string code) => TryT("category." + code) ?? code.Replace('_', ' ');
}
