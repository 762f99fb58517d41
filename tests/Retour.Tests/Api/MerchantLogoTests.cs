using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Retour.Features.Portal;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

/// <summary>
/// PUT and DELETE /api/v1/merchant/logo: the uploaded logo is checked by its bytes, served by the portal under a
/// versioned URL, and printed on the return label (rasterised with poppler to prove it is visible, not merely embedded).
/// </summary>
public sealed class MerchantLogoTests(RetourApp app) : IClassFixture<RetourApp>
{
    /// <summary>A colour nothing else on a label uses, so its pixels can only come from the logo.</summary>
    private static readonly (byte R, byte G, byte B) Magenta = (200, 30, 140);

    [Fact]
    public async Task Upload_IsServedVersioned_ShownInThePortal_AndPrintedOnTheLabel_UntilRemoved()
    {
        var m = await app.NewMerchantAsync();
        var other = await app.NewMerchantAsync();
        var png = TestImages.Png(64, 32, Magenta);

        var put = (await PutRaw(m.Client, png, "image/png")).Expect(HttpStatusCode.OK);
        var url = put.Str("logo_url");
        Assert.Matches($"^/r/{m.Slug}/logo\\?v=[0-9a-f]{{12}}$", url);
        Assert.Equal(url, (await m.Client.Get("/api/v1/merchant")).Expect(HttpStatusCode.OK).Str("logo_url"));

        var anonymous = app.Client(null);
        var served = await anonymous.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("image/png", served.Content.Headers.ContentType!.MediaType);
        Assert.Equal(png, await served.Content.ReadAsByteArrayAsync());
        Assert.Contains("immutable", served.Headers.CacheControl!.ToString());
        var revalidate = new HttpRequestMessage(HttpMethod.Get, $"/r/{m.Slug}/logo");
        revalidate.Headers.IfNoneMatch.Add(served.Headers.ETag!);
        var notModified = await anonymous.SendAsync(revalidate);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.DoesNotContain("immutable", notModified.Headers.CacheControl!.ToString());

        Assert.Contains($"<img src=\"{url.Replace("&", "&amp;")}\"", await anonymous.GetStringAsync($"/r/{m.Slug}"));
        // The other shop has no logo, and its portal does not show this one.
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/r/{other.Slug}/logo")).StatusCode);
        Assert.DoesNotContain("/logo?v=", await anonymous.GetStringAsync($"/r/{other.Slug}"));

        var rma = await ReturnAsync(m);
        var label = await LabelAsync(m, rma);
        Assert.Matches(new Regex(@"/Subtype\s*/Image"), Encoding.Latin1.GetString(label));
        // A drop-off has no address of its own: the label's sender is the order's shipping address.
        Assert.Contains("Hauptstr. 1", Poppler.Text(label));
        var inked = MagentaPixels(label);
        // Drawn 20 pt high at 2:1, so about 40 × 20 px at 72 dpi.
        Assert.InRange(inked, 500, 1200);

        // Another shop's key cannot remove it: DELETE acts on the key's own shop.
        (await other.Client.Send(HttpMethod.Delete, "/api/v1/merchant/logo")).Expect(HttpStatusCode.NoContent);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(url)).StatusCode);

        // An external logo URL shows in the portal, but the label prints only an uploaded logo.
        (await m.Client.Send(HttpMethod.Patch, "/api/v1/merchant", new { logo_url = "https://cdn.example.com/l.png" })).Expect(HttpStatusCode.OK);
        Assert.Equal(0, MagentaPixels(await LabelAsync(m, rma)));

        (await PutRaw(m.Client, png, "image/png")).Expect(HttpStatusCode.OK);
        (await m.Client.Send(HttpMethod.Delete, "/api/v1/merchant/logo")).Expect(HttpStatusCode.NoContent);
        Assert.Null((await m.Client.Get("/api/v1/merchant")).Expect(HttpStatusCode.OK)["logo_url"]);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(url)).StatusCode);
        var plain = await LabelAsync(m, rma);
        Assert.DoesNotMatch(new Regex(@"/Subtype\s*/Image"), Encoding.Latin1.GetString(plain));
        Assert.Equal(0, MagentaPixels(plain));
        // Deleting again is fine.
        (await m.Client.Send(HttpMethod.Delete, "/api/v1/merchant/logo")).Expect(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Upload_AsAMultipartForm_Works_AndStripsTextChunks()
    {
        var m = await app.NewMerchantAsync();
        var png = TestImages.Png(40, 40, (10, 90, 200));
        // A tEXt chunk before IEND (where an editor writes its name or the author's address).
        var withText = png[..^12].Concat(Chunk("tEXt", "Author\0someone@example.com"u8.ToArray())).Concat(png[^12..]).ToArray();
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(withText);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream"); // the type is judged by the bytes
        form.Add(file, "logo", "logo.bin");
        var res = await m.Client.PutAsync("/api/v1/merchant/logo", form);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var url = System.Text.Json.Nodes.JsonNode.Parse(await res.Content.ReadAsStringAsync()).Str("logo_url");
        var stored = await app.Client(null).GetByteArrayAsync(url);
        Assert.Equal(png, stored);
    }

    [Fact]
    public async Task Upload_RefusesWhatIsNotAPrintableLogo_AndKeepsTheOldOne()
    {
        var m = await app.NewMerchantAsync();
        var good = (await PutRaw(m.Client, TestImages.Png(32, 32, (1, 2, 3)), "image/png")).Expect(HttpStatusCode.OK).Str("logo_url");

        async Task Refused(byte[] body, string contentType, string expected)
        {
            var (status, problem) = await PutRaw(m.Client, body, contentType);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
            Assert.Contains(expected, problem!["errors"]!["logo"]![0]!.GetValue<string>());
        }

        await Refused([], "image/png", "Send the logo as the request body");
        await Refused("<svg xmlns='http://www.w3.org/2000/svg'/>"u8.ToArray(), "image/png", "not a PNG or JPEG");
        await Refused("RIFF\x0c\0\0\0WEBPVP8 \0\0\0\0"u8.ToArray(), "image/webp", "WebP logos cannot be printed");
        await Refused(TestImages.Png(32, 32, (1, 2, 3))[..^20], "image/png", "damaged or incomplete");
        await Refused(TestImages.Png(8, 8, (1, 2, 3)), "image/png", "8×8 px");
        await Refused(TestImages.Png(5000, 20, (1, 2, 3)), "image/png", "5000×20 px");

        var huge = new byte[MerchantLogoMax + 1];
        TestImages.Png(32, 32, (1, 2, 3)).CopyTo(huge, 0);
        var (tooBig, problem) = await PutRaw(m.Client, huge, "image/png");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig);
        Assert.Equal("payload_too_large", problem.Str("code"));

        Assert.Equal(HttpStatusCode.Unauthorized, (await PutRaw(app.Client(null), TestImages.Png(32, 32, (1, 2, 3)), "image/png")).Status);
        Assert.Equal(good, (await m.Client.Get("/api/v1/merchant")).Expect(HttpStatusCode.OK).Str("logo_url"));
        Assert.Equal(HttpStatusCode.OK, (await app.Client(null).GetAsync(good)).StatusCode);
    }

    [Fact]
    public void DemoLogo_WithTransparency_IsPrintedOnTheLabel()
    {
        using var stream = typeof(ReturnLabel).Assembly.GetManifestResourceStream("demo-logo.png")!;
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        var logo = ms.ToArray();
        Assert.Equal((128, 128), Retour.Core.Media.Photos.Dimensions(logo));
        Assert.True(ReturnLabel.CanDraw(logo));
        LabelData Label(byte[]? l) => new("R-TEST-0001", "Demo Outfitters", "#0f5c4d", "D1001", "DHL", null, "Returns", null, "RETOUR:R-TEST-0001", null, 1, l);
        // The arrowhead's amber (#f2c14e) appears only in the logo, and only if the alpha channel was kept (else a box).
        (byte, byte, byte) amber = (0xf2, 0xc1, 0x4e);
        var pdf = ReturnLabel.Render(Label(logo));
        var with = Pixels(pdf, amber, 300);
        Assert.InRange(with, 100, 2000);
        Assert.Equal(0, Pixels(ReturnLabel.Render(Label(null)), amber, 300));
        Assert.False(ReturnLabel.CanDraw("not an image"u8.ToArray()));
    }

    private const int MerchantLogoMax = Retour.Features.Tenancy.MerchantLogo.MaxBytes;

    private static async Task<(HttpStatusCode Status, System.Text.Json.Nodes.JsonNode? Body)> PutRaw(HttpClient c, byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        var res = await c.PutAsync("/api/v1/merchant/logo", content);
        var text = await res.Content.ReadAsStringAsync();
        return (res.StatusCode, text.Length > 0 ? System.Text.Json.Nodes.JsonNode.Parse(text) : null);
    }

    private static async Task<string> ReturnAsync(TestMerchant m)
    {
        (await m.Client.Post("/api/v1/orders", Orders.Delivered("L-1001"))).Expect(HttpStatusCode.Created);
        var r = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("L-1001"))).Expect(HttpStatusCode.Created);
        Assert.Equal("approved", r.Str("status"));
        return r.Str("rma");
    }

    private async Task<byte[]> LabelAsync(TestMerchant m, string rma)
    {
        var status = PortalPage.StatusUrl(app.Services.GetRequiredService<IDataProtectionProvider>(), m.Slug, m.Id, rma);
        var res = await app.Client(null).GetAsync(status.Replace($"/returns/{rma}?", $"/returns/{rma}/label?"));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("application/pdf", res.Content.Headers.ContentType!.MediaType);
        return await res.Content.ReadAsByteArrayAsync();
    }

    private static int MagentaPixels(byte[] pdf) => Pixels(pdf, Magenta);

    /// <summary>Rasterises the label with poppler (72 dpi unless told) and counts the pixels of one colour.</summary>
    private static int Pixels(byte[] pdf, (byte R, byte G, byte B) colour, int dpi = 72)
    {
        var page = Poppler.Rasterise(pdf, dpi);
        Assert.True(page.Width > 250 * dpi / 72 && page.Height > 350 * dpi / 72, $"Unexpected page size {page.Width}×{page.Height}");
        var rgb = page.Pixels;
        var count = 0;
        for (var i = 0; i + 2 < rgb.Length; i += 3)
            if (Math.Abs(rgb[i] - colour.R) < 12 && Math.Abs(rgb[i + 1] - colour.G) < 12 && Math.Abs(rgb[i + 2] - colour.B) < 12) count++;
        return count;
    }

    private static byte[] Chunk(string type, byte[] data)
    {
        using var ms = new MemoryStream();
        TestImages.Chunk(ms, type, data);
        return ms.ToArray();
    }
}
