using Retour.Core;
using System.Net.Mail;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Retour.Infrastructure;
using Retour.Infrastructure.Db;

namespace Retour.Features.Notifications;

/// <summary>
/// Sends queued notifications on their channel: email over SMTP (System.Net.Mail; no TLS to 127.0.0.1, STARTTLS
/// elsewhere), SMS through the configured provider. Each is leased first (status sending under the row's concurrency
/// token); a failure is retried after 30 s, 1, 2, 4 … minutes, eight times, then it is dead and listed in the log.
/// An answer that retrying cannot change (a refused mailbox twice, an invalid or unsubscribed number) ends it sooner.
/// </summary>
public sealed class NotificationSender(IServiceScopeFactory scopes, RetourSettings settings, Tenancy.MerchantDirectory merchants, TimeProvider clock,
    ILogger<NotificationSender> log, ISmsProvider? sms = null)
{
    public const int MaxAttempts = 8;
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    /// <summary>The channels that can send here: email with an SMTP server, SMS with a provider.</summary>
    public IReadOnlyList<string> Active { get; } =
        [.. new[] { settings.SmtpHost is null ? null : Channels.Email, sms is null ? null : Channels.Sms }.OfType<string>()];

    public bool CanSend(string channel) => Active.Contains(channel);

    public async Task<int> RunDueAsync(CancellationToken ct)
    {
        if (Active.Count == 0) return 0;
        var now = clock.GetUtcNow();
        var channels = Active;
        List<(Guid Id, Guid MerchantId)> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            due = (await db.Notifications.IgnoreQueryFilters().AsNoTracking()
                .Where(n => channels.Contains(n.Channel) && (n.Status == NotificationStatus.Pending || n.Status == NotificationStatus.Failed || n.Status == NotificationStatus.Sending)
                            && n.NextAttemptAt != null && n.NextAttemptAt <= now)
                .OrderBy(n => n.NextAttemptAt).Take(20).Select(n => new { n.Id, n.MerchantId }).ToListAsync(ct)).Select(n => (n.Id, n.MerchantId)).ToList();
        }
        foreach (var (id, merchantId) in due)
        {
            try { await SendAsync(id, merchantId, ct); }
            catch (Exception e) when (e is not OperationCanceledException) { log.LogRetried(e, "Notification {Notification} failed; its lease ends and it is tried again", id); }
        }
        return due.Count;
    }

    private async Task SendAsync(Guid id, Guid merchantId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(merchantId);
        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        var now = clock.GetUtcNow();
        var n = await db.Notifications.FirstOrDefaultAsync(x => x.Id == id, ct);
        if (n is null || n.NextAttemptAt is not { } at || at > now || n.Status is NotificationStatus.Sent or NotificationStatus.Dead or NotificationStatus.Skipped) return;
        (n.Status, n.NextAttemptAt, n.UpdatedAt) = (NotificationStatus.Sending, now + Lease, now);
        try { await db.SaveChangesAsync(ct); } catch (DbUpdateConcurrencyException) { return; }

        var (providerRef, error, permanent) = n.Channel == Channels.Sms ? await SmsAsync(n, ct) : await EmailAsync(n, merchantId, ct);
        now = clock.GetUtcNow();
        n.Attempts++;
        n.UpdatedAt = now;
        if (error is null) (n.Status, n.SentAt, n.NextAttemptAt, n.LastError, n.ProviderRef) = (NotificationStatus.Sent, now, null, null, providerRef);
        else if (n.Attempts >= MaxAttempts || permanent)
            (n.Status, n.NextAttemptAt, n.LastError) = (NotificationStatus.Dead, null, Trim(error));
        else (n.Status, n.NextAttemptAt, n.LastError) = (NotificationStatus.Failed, now + Backoff.Exponential(n.Attempts, TimeSpan.FromSeconds(30), Backoff.Hour), Trim(error));
        try { await db.SaveChangesAsync(ct); } catch (DbUpdateConcurrencyException) { }
    }

    private static string Trim(string error) => error.Length > 1000 ? error[..1000] : error;

    private async Task<(string?, string?, bool)> SmsAsync(Notification n, CancellationToken ct)
    {
        if (sms is null) return (null, "SMS is not configured on this server.", false);
        var result = await sms.SendAsync(n.Recipient, n.Body, ct);
        return (result.ProviderRef, result.Error, result.Permanent);
    }

    private async Task<(string?, string?, bool)> EmailAsync(Notification n, Guid merchantId, CancellationToken ct)
    {
        try
        {
            using var mail = new MailMessage
            {
                From = Sender((await merchants.GetAsync(merchantId, ct))?.Name ?? "Retour"), Subject = n.Subject, Body = n.Body, IsBodyHtml = false,
                BodyEncoding = Encoding.UTF8, SubjectEncoding = Encoding.UTF8, HeadersEncoding = Encoding.UTF8,
            };
            mail.To.Add(new MailAddress(n.Recipient));
            mail.Headers.Add("X-Retour-Notification", n.Id.ToString());
            mail.Headers.Add("Content-Language", n.Locale);
            using var smtp = new SmtpClient(settings.SmtpHost, settings.SmtpPort)
            {
                EnableSsl = settings.SmtpHost is not ("127.0.0.1" or "localhost" or "::1"), DeliveryMethod = SmtpDeliveryMethod.Network, Timeout = 15_000,
            };
            await smtp.SendMailAsync(mail, ct);
            return (null, null, false);
        }
        catch (Exception e) when (e is SmtpException or FormatException or InvalidOperationException or IOException)
        {
            // A mailbox refused twice will be refused again.
            return (null, e.Message, e.Message.Contains("mailbox", StringComparison.OrdinalIgnoreCase) && n.Attempts >= 1);
        }
    }

    /// <summary>The configured address, shown with the shop's name ("Demo Outfitters via Retour" keeps replies honest).</summary>
    private MailAddress Sender(string shop)
    {
        var configured = new MailAddress(settings.SmtpFrom);
        return new MailAddress(configured.Address, shop, Encoding.UTF8);
    }
}

public sealed class NotificationSenderHost(NotificationSender sender, RetourSettings settings, ILogger<NotificationSenderHost> log) : PollingHost(settings, log)
{
    protected override string What => "Sending notifications";
    protected override TimeSpan Idle => TimeSpan.FromMilliseconds(500);
    protected override bool Enabled => sender.Active.Count > 0;
    protected override async Task<bool> RunOnceAsync(CancellationToken stop) => await sender.RunDueAsync(stop) > 0;
}
