using Retour.Core.Policies;
using Retour.Core.Returns;

namespace Retour.Features.Demo;

public sealed record DemoProduct(string Sku, string ProductCode, string Title, string Category, decimal Price, bool FinalSale,
    IReadOnlyDictionary<string, string>? Variant, string Supplier);

/// <summary>The demo shop's catalogue and policy: apparel in sizes and colours, footwear, electronics, home, beauty, final sale.</summary>
public static class DemoCatalogue
{
    public static IReadOnlyList<DemoProduct> Products { get; } = Build();

    private static List<DemoProduct> Build()
    {
        var list = new List<DemoProduct>();
        void Variants(string code, string title, string category, decimal price, string supplier, string[] sizes, string[] colors, bool finalSale = false)
        {
            foreach (var size in sizes)
            foreach (var color in colors)
                list.Add(new DemoProduct($"{code}-{size}-{color[..3].ToUpperInvariant()}", code, title, category, price, finalSale,
                    new Dictionary<string, string> { ["size"] = size, ["color"] = color }, supplier));
        }
        Variants("TEE", "Organic cotton tee", "apparel", 19.99m, "nordic_textiles", ["S", "M", "L", "XL"], ["blue", "black", "white"]);
        Variants("JEANS", "Slim fit jeans", "apparel", 79.00m, "denim_works", ["30", "32", "34"], ["indigo", "black"]);
        Variants("DRESS", "Linen summer dress", "apparel", 89.00m, "nordic_textiles", ["S", "M", "L"], ["sand", "green"]);
        Variants("PARKA", "Winter parka", "apparel", 249.00m, "arctic_gear", ["M", "L"], ["navy"]);
        Variants("SNEAK", "Everyday sneakers", "footwear", 119.00m, "stride", ["40", "41", "42", "43", "44"], ["white", "grey"]);
        Variants("TEE-OUT", "Clearance tee", "apparel", 7.50m, "nordic_textiles", ["M", "L"], ["orange"], finalSale: true);
        void Single(string sku, string title, string category, decimal price, string supplier, bool finalSale = false) =>
            list.Add(new DemoProduct(sku, sku, title, category, price, finalSale, null, supplier));
        Single("HEADPH-ANC", "Noise-cancelling headphones", "electronics", 199.00m, "soundlab");
        Single("WATCH-FIT", "Fitness smartwatch", "electronics", 149.00m, "soundlab");
        Single("CHARGER-65W", "65 W USB-C charger", "electronics", 39.90m, "voltco");
        Single("CABLE-USB-C", "USB-C cable, 2 m", "electronics", 9.90m, "voltco");
        Single("MUG-SET", "Stoneware mug set", "home", 34.00m, "casa_bella");
        Single("CUSHION-LIN", "Linen cushion cover", "home", 24.00m, "casa_bella");
        Single("SERUM-VITC", "Vitamin C serum", "beauty", 29.00m, "glow_labs");
        Single("SOCKS-3P", "Wool socks, 3 pairs", "apparel", 6.90m, "nordic_textiles");
        Single("GIFT-50", "Gift card 50 EUR", "gift_cards", 50.00m, "demo_outfitters");
        Single("LAMP-DISPLAY", "Display lamp (ex-showroom)", "home", 59.00m, "casa_bella", finalSale: true);
        return list;
    }

    public static ReturnPolicy Policy { get; } = new()
    {
        WindowDays = 30,
        Categories = new Dictionary<string, CategoryRule>
        {
            ["electronics"] = new()
            {
                WindowDays = 14,
                Resolutions = [Resolution.Refund, Resolution.StoreCredit],
                Methods = [ReturnMethod.Pickup, ReturnMethod.DropOff, ReturnMethod.Keep],
                RestockingFee = new Fee(FeeKind.Percent, 15m),
            },
            ["footwear"] = new() { WindowDays = 45 },
            ["home"] = new() { RestockingFee = new Fee(FeeKind.Fixed, 3m) },
        },
        ProductWindows = new Dictionary<string, int> { ["PARKA"] = 60 },
        SeasonalExtensions = [new SeasonalExtension("holiday", "11-15", "12-24", "01-31")],
        NonReturnableCategories = ["beauty", "gift_cards"],
        SubReasons = new Dictionary<string, IReadOnlyList<string>>
        {
            ["too_small"] = ["too_short", "too_tight"],
            ["too_large"] = ["too_long", "too_loose"],
            ["defective"] = ["does_not_work", "broken_part", "stopped_working"],
            ["quality"] = ["material", "colour_differs"],
        },
        Resolutions = [Resolution.Refund, Resolution.StoreCredit, Resolution.Exchange],
        Methods = [ReturnMethod.Pickup, ReturnMethod.DropOff, ReturnMethod.InStore, ReturnMethod.Keep],
        ReturnShippingFee = 4.95m,
        KeepItThreshold = 10m,
        StoreCreditBonusPercent = 10m,
        RefundOriginalShipping = true,
        RefundMoment = RefundMoment.AfterInspection,
        AutoApproval = new AutoApprovalRules { MaxTotal = 300m, HistoryOrders = 10, MinHistoryOrders = 3, MaxReturnRatePercent = 50m },
    };
}
