using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Infrastructure.Db;

namespace Retour.Features.Tenancy;

/// <summary>
/// The logo a merchant uploaded, kept in the database so that every node serves it and every label can draw it without
/// fetching anything from the internet. One per merchant; the portal links it as /r/{slug}/logo?v={first 12 of sha256}.
/// </summary>
public sealed class MerchantLogo : ITenantOwned
{
    /// <summary>A logo is small: 1 MiB is far more than a sharp 512 px PNG needs.</summary>
    public const int MaxBytes = 1024 * 1024;
    /// <summary>Width and height limit in pixels (the label draws it 26 pt high; the portal 40 px).</summary>
    public const int MaxSide = 4096;

    public Guid MerchantId { get; set; }
    public string ContentType { get; set; } = "";
    public int Width { get; set; }
    public int Height { get; set; }
    public string Sha256 { get; set; } = "";
    public byte[] Data { get; set; } = [];
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Sets the image (already checked and cleaned) and returns the URL the merchant's logo_url should take.</summary>
    public string Set(string slug, Retour.Core.Media.PhotoType type, byte[] data, (int Width, int Height) size, DateTimeOffset now)
    {
        ContentType = Retour.Core.Media.Photos.ContentType(type);
        Data = data;
        Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));
        (Width, Height) = size;
        UpdatedAt = now;
        return Url(slug, Sha256);
    }

    /// <summary>The portal URL of this version of the logo; a new upload gets a new URL, so browsers may cache each for ever.</summary>
    public static string Url(string slug, string sha256) => $"/r/{slug}/logo?v={sha256[..12]}";

    internal sealed class Config : IEntityTypeConfiguration<MerchantLogo>
    {
        public void Configure(EntityTypeBuilder<MerchantLogo> b)
        {
            b.HasKey(x => x.MerchantId);
            b.HasOne<Merchant>().WithOne().HasForeignKey<MerchantLogo>(x => x.MerchantId).OnDelete(DeleteBehavior.Cascade);
            b.Property(x => x.ContentType).HasMaxLength(32);
            b.Property(x => x.Sha256).HasMaxLength(64);
        }
    }
}
