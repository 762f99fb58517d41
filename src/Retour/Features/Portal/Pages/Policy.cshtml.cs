using Microsoft.AspNetCore.Mvc;
using Retour.Core.Policies;
using Microsoft.EntityFrameworkCore;
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

    /// <summary>Set when this is the console's preview of a draft: shown with a banner, never cached, framed only by the console.</summary>
    public bool IsPreview { get; private set; }
    public IReadOnlyList<Retour.Core.FieldError> PreviewErrors { get; private set; } = [];

    /// <summary>
    /// POST ?handler=Preview with form field "policy" (a draft, as JSON): this page as shoppers would see it under the
    /// draft. Only for a console session of this shop that may read its policy; nothing is saved.
    /// </summary>
    public async Task<IActionResult> OnPostPreviewAsync([FromForm] string? policy)
    {
        if (!User.HasClaim(Infrastructure.Auth.RetourClaims.Scope, Tenancy.Scopes.PolicyRead) ||
            User.FindFirst(Infrastructure.Auth.RetourClaims.MerchantId)?.Value != Merchant.Id.ToString())
            return NotFound();
        IsPreview = true;
        Title = T("policy.title", ("shop", Merchant.Name));
        Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy("'self'");
        ReturnPolicy? draft = null;
        try { draft = System.Text.Json.JsonSerializer.Deserialize<ReturnPolicy>(policy ?? "", PolicyBook.StrictJson); }
        catch (System.Text.Json.JsonException e) { PreviewErrors = [new("policy", e.Message.Split(". Path")[0])]; }
        if (draft is null && PreviewErrors.Count == 0) PreviewErrors = [new("policy", "Send the draft policy.")];
        if (draft is not null) PreviewErrors = PolicyValidator.Validate(draft);
        Policy = draft ?? ReturnPolicy.Default;
        var latest = await Db.PolicyVersions.MaxAsync(v => (int?)v.Version, HttpContext.RequestAborted) ?? 0;
        Version = new PolicyVersion { Version = latest + 1, DocumentJson = "", CreatedAt = Clock.GetUtcNow(), CreatedBy = "draft" };
        return Page();
    }

    public string Fee(Fee f) => f.Value == 0 ? T("policy.fee_none")
        : f.Type == FeeKind.Percent ? T("policy.fee_percent", ("percent", (f.Value / 100m).ToString("P0", Culture)))
        : T("policy.fee_fixed", ("amount", Money(f.Value, Merchant.Currency)));

    public string Category(string code) => TryT("category." + code) ?? code.Replace('_', ' ');
}
