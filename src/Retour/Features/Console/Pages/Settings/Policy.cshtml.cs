using Microsoft.AspNetCore.Authorization;
using Retour.Core.Policies;
using Retour.Core.Returns;
using Retour.Features.Policies;
using Retour.Infrastructure.Http;

namespace Retour.Features.Console.Pages.Settings;

/// <summary>
/// The policy editor: the everyday settings and the reasons taxonomy as fields, the whole document as JSON beside them
/// (both edit one draft), a live preview of the public policy page under the draft, and "what would happen to this
/// order" under the draft against today's policy. Saving is PUT /api/v1/policy: a new version.
/// </summary>
[Authorize(Policy = ConsolePolicy.StaffAdmin)]
public sealed class PolicyModel : ConsolePage
{
    public override string Section => "settings";
    public ReturnPolicy Policy { get; private set; } = ReturnPolicy.Default;
    public int? Version { get; private set; }
    public string? CreatedBy { get; private set; }
    public DateTimeOffset? CreatedAt { get; private set; }
    public string PolicyJson { get; private set; } = "";

    public static IReadOnlyList<string> Reasons => Codes.All<ReasonCode>();
    public static IReadOnlyList<string> Resolutions => Codes.All<Resolution>();
    public static IReadOnlyList<string> Methods => Codes.All<ReturnMethod>();
    public static IReadOnlyList<string> Moments => Codes.All<RefundMoment>();

    public async Task OnGetAsync()
    {
        Title = T("policy_editor.title");
        var current = await HttpContext.RequestServices.GetRequiredService<PolicyBook>().CurrentAsync(Db, HttpContext.RequestAborted);
        if (current is { } c) (Policy, Version, CreatedBy, CreatedAt) = (c.Policy, c.Row.Version, c.Row.CreatedBy, c.Row.CreatedAt);
        PolicyJson = Json.Indented(Policy);
    }
}
