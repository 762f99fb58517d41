using Retour.Core.Addresses;

namespace Retour.Core.Logistics;

/// <summary>A merchant's rules for failed pickups (NDR): how many attempts before support takes over, and how long a shopper has to answer.</summary>
public sealed record PickupRecoverySettings(int MaxAttempts = 3, int AnswerHours = 48)
{
    public static readonly PickupRecoverySettings Default = new();

    public IReadOnlyList<FieldError> Validate()
    {
        var errors = new List<FieldError>();
        if (MaxAttempts is < 1 or > 10) errors.Add(new("pickup_max_attempts", "Use 1 to 10 attempts."));
        if (AnswerHours is < 1 or > 720) errors.Add(new("pickup_answer_hours", "Use 1 to 720 hours (30 days)."));
        return errors;
    }
}

/// <summary>What the shopper (or support, for them) asks after a failed pickup.</summary>
public enum RecoveryAction
{
    /// <summary>Same address: "I will be there", on the day chosen.</summary>
    Confirm,
    /// <summary>A corrected address (and phone), collected on the day chosen.</summary>
    FixAddress,
}

/// <summary>Where one failed pickup (an NDR case) stands.</summary>
public enum NdrState
{
    /// <summary>The shopper has been asked, with a signed link, and has not answered yet.</summary>
    AwaitingShopper,
    /// <summary>An answer came; the re-attempt is being booked with the carrier.</summary>
    RebookRequested,
    /// <summary>The carrier confirmed the re-attempt.</summary>
    Rebooked,
    /// <summary>Out of attempts or out of time: in the support queue.</summary>
    Escalated,
    /// <summary>The carrier collected the parcel after this failure.</summary>
    Recovered,
    /// <summary>The re-attempt failed too; a newer case carries on.</summary>
    FailedAgain,
    /// <summary>The return was cancelled or closed otherwise.</summary>
    Closed,
}

/// <summary>What Retour does after the carrier reports a failed pickup.</summary>
public sealed record RecoveryStep(bool Escalate, string? EscalationReason, DateTimeOffset? AnswerBy);

/// <summary>
/// The failed-pickup (NDR) rules, pure. After a failure the shopper is asked to confirm or fix the address and choose a
/// day, unless the attempts are used up, in which case support takes over at once; an unanswered question goes to support
/// when its time is up. A shopper's answer is checked here: a day the carrier collects, an address valid for its country
/// that the carrier serves.
/// </summary>
public static class PickupRecovery
{
    /// <summary>Reasons carriers give for a failed pickup, as the tracking map's incidents name them.</summary>
    public static readonly string[] Reasons = ["not_available", "address_not_found", "refused", "missed", "closed", "access_problem"];

    public static string ReasonOf(string? incident) => incident is { Length: > 0 } i && Reasons.Contains(i) ? i : "other";

    public static RecoveryStep OnFailure(int failures, DateTimeOffset now, PickupRecoverySettings settings) =>
        failures >= settings.MaxAttempts
            ? new RecoveryStep(true, $"{failures} failed pickup attempts (the limit is {settings.MaxAttempts})", null)
            : new RecoveryStep(false, null, now.AddHours(settings.AnswerHours));

    public static bool Overdue(DateTimeOffset? answerBy, DateTimeOffset now) => answerBy is { } by && by <= now;

    public static string OverdueReason(PickupRecoverySettings settings) => $"no answer from the shopper within {settings.AnswerHours} hours";

    /// <summary>States in which the case still waits for someone to act (the shopper or support).</summary>
    public static bool Open(NdrState s) => s is NdrState.AwaitingShopper or NdrState.Escalated;

    /// <summary>The days a re-attempt can be booked: the carrier's first pickup day on (cut-off respected), Monday to Saturday, within the horizon.</summary>
    public static IReadOnlyList<DateOnly> Days(CarrierProfile carrier, DateTime localNow)
    {
        var first = carrier.FirstPickupDay(localNow);
        var today = DateOnly.FromDateTime(localNow);
        return [.. ReturnLogistics.PickupDates(today).Where(d => d >= first)];
    }

    /// <summary>Checks an answer; the errors name the fields (pickup_date, address.*).</summary>
    public static IReadOnlyList<FieldError> Check(RecoveryAction action, DateOnly? day, PostalAddress? address, CarrierProfile carrier, DateTime localNow)
    {
        var errors = new List<FieldError>();
        var days = Days(carrier, localNow);
        if (day is not { } d) errors.Add(new("pickup_date", "Choose the day the carrier should come."));
        else if (!days.Contains(d))
            errors.Add(new("pickup_date", days.Count == 0 ? "The carrier has no pickup days open." :
                $"{carrier.Name} can come from {days[0]:yyyy-MM-dd} to {days[^1]:yyyy-MM-dd}, Monday to Saturday."));
        if (action == RecoveryAction.FixAddress)
        {
            if (address is null) errors.Add(new("address", "Send the corrected address."));
            else
            {
                var problems = AddressRules.Validate(address);
                errors.AddRange(problems.Select(p => new FieldError($"address.{p.Field}", p.EnglishMessage)));
                if (problems.Count == 0 && !carrier.Serves(address.Country, address.PostalCode))
                    errors.Add(new("address.postal_code", $"{carrier.Name} does not collect at {address.Country} {address.PostalCode}."));
            }
        }
        return errors;
    }
}
