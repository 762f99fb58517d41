namespace Retour.Core.Analytics;

/// <summary>
/// Word stems that point at a reason, per language, in the classifier's normalised spelling (ä → ae, ñ → n, ё → е, Arabic
/// without diacritics and with bare alef, ta marbuta as ha). A word matches the longest stem it starts with, so
/// "groesser" (bigger: the item was too small) wins over "gross" (big), and "cheaper" over "cheap". Stems with a space
/// match as phrases. The classifier turns matches into features whose weights it learns from the training phrases;
/// the lexicon carries words the training phrases may not have.
/// </summary>
public static class ReasonLexicon
{
    public static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, string[]>> Stems = new Dictionary<string, IReadOnlyDictionary<string, string[]>>
    {
        ["en"] = new Dictionary<string, string[]>
        {
            ["too_small"] = ["small", "tight", "short", "narrow", "snug", "size up", "bigger", "larger", "squeez", "pinch", "cramp", "can't zip", "cannot zip", "can't button", "doesn't close", "dig in", "digs in", "cuts off"],
            ["too_large"] = ["big", "large", "loose", "long", "baggy", "wide", "huge", "roomy", "falls off", "slides down", "hangs", "tent", "gap", "size down", "smaller", "swim", "sagg", "oversized", "extra fabric"],
            ["not_as_described"] = ["photo", "picture", "pic", "description", "described", "listing", "listed", "advertised", "website", "shown", "looks different", "colour", "color", "shade", "material", "size chart", "claims", "stated", "supposed to", "product page", "specs"],
            ["defective"] = ["work", "broken", "stopped", "won't", "turn on", "switch on", "charg", "battery", "dead", "faulty", "defect", "malfunction", "power", "button", "error", "overheat", "leak", "flicker", "glitch", "pair", "bluetooth", "connect", "beep", "crackl", "buzz"],
            ["damaged"] = ["damag", "crush", "dent", "scratch", "shatter", "smash", "torn", "box", "packag", "parcel", "transit", "courier", "crack", "chip", "wet", "soaked", "dropped", "delivery guy", "squashed"],
            ["wrong_item"] = ["wrong", "instead", "sent me", "not what i ordered", "i ordered", "ordered", "mix", "mixed up", "someone else", "packing error", "selected", "picked", "chose", "different model", "different item", "never bought"],
            ["arrived_late"] = ["late", "delay", "weeks", "too long", "took", "event", "wedding", "birthday", "occasion", "missed", "deadline", "christmas", "holiday", "trip", "party", "in time", "after the"],
            ["changed_mind"] = ["changed my mind", "change of heart", "don't want", "dont want", "no longer", "don't need", "dont need", "don't like", "dont like", "mistake", "accident", "by mistake", "decided", "impulse", "regret", "second thought", "not for me", "kept the other", "both"],
            ["better_price"] = ["cheaper", "price", "sale", "discount", "elsewhere", "found it for", "paid", "deal", "coupon", "amazon", "competitor", "less", "reduced", "marked down", "price match", "lower"],
            ["quality"] = ["quality", "cheap", "flimsy", "thin", "pilling", "bobbl", "fray", "seam", "stitch", "peel", "fell apart", "falling apart", "wash", "faded", "fade", "shed", "plastic", "wobbl", "poorly made", "uneven", "see through", "see-through", "cardboard", "unravel", "loose thread"],
            ["other"] = ["gift", "allerg", "moving", "move abroad", "duplicate", "twice", "relative", "rule", "school", "not allowed", "landlord", "doctor", "rash", "itch", "visa", "dress code"],
        },
        ["de"] = new Dictionary<string, string[]>
        {
            ["too_small"] = ["klein", "eng", "kurz", "knapp", "schmal", "drueck", "kneif", "groesser", "zwick", "spann", "geht nicht zu", "nicht zu", "quetsch", "einschneid"],
            ["too_large"] = ["gross", "weit", "lang", "locker", "rutsch", "breit", "kleiner", "luft", "schlabber", "sack", "haengt", "faellt", "rausschlapp", "falten"],
            ["not_as_described"] = ["bild", "foto", "beschreib", "abbild", "anders als", "farbe", "material", "angegeben", "laut", "produktseite", "shop", "versprochen", "gezeigt", "massangabe", "groessentabelle", "steht"],
            ["defective"] = ["funktion", "kaputt", "defekt", "geht nicht", "laedt", "akku", "startet", "schalt", "einschalt", "fehler", "rausch", "strom", "verbind", "blinkt", "ausfall", "geht aus", "reagiert"],
            ["damaged"] = ["beschaedig", "zerdrueck", "delle", "kratz", "zerbroch", "karton", "verpackung", "paket", "transport", "gesprungen", "nass", "eingedrueckt", "scherben", "riss", "zerkratzt", "bote"],
            ["wrong_item"] = ["falsch", "statt", "anstatt", "anderer", "andere", "bestellt", "vertausch", "verwechsel", "geliefert wurde", "gewaehlt", "ausgewaehlt", "nie bestellt"],
            ["arrived_late"] = ["spaet", "verspaet", "wochen", "lange", "hochzeit", "geburtstag", "feier", "urlaub", "lieferzeit", "termin", "weihnacht", "fasching", "rechtzeitig", "zu spaet", "nach dem"],
            ["changed_mind"] = ["ueberlegt", "gefaellt", "nicht mehr", "brauche", "versehentlich", "versehen", "doch nicht", "beide", "entschieden", "spontan", "bereue", "umentschieden", "nicht mein"],
            ["better_price"] = ["guenstiger", "billiger", "preis", "angebot", "rabatt", "woanders", "reduziert", "gezahlt", "bezahlt", "gutschein", "sale", "preisvergleich", "weniger"],
            ["quality"] = ["qualitaet", "billig", "duenn", "fussel", "naht", "naehte", "waesche", "gewaschen", "verarbeitung", "labbrig", "loest sich", "pilling", "abgenutzt", "ausgeblichen", "wackel", "knoetchen", "minderwertig", "plastik", "ausgefranst"],
            ["other"] = ["geschenk", "allergi", "umzug", "doppelt", "verwandt", "erlaubt", "arzt", "ausschlag", "juck", "schule", "vermieter", "ausland"],
        },
        ["es"] = new Dictionary<string, string[]>
        {
            ["too_small"] = ["pequen", "apret", "chic", "cort", "estrech", "talla mas", "mas grande", "no me entra", "no cierra", "no abrocha", "aprieta", "ajustad"],
            ["too_large"] = ["grand", "holgad", "anch", "larg", "flojo", "suelt", "se cae", "se me cae", "talla menos", "mas pequen", "sobra", "enorme", "baila"],
            ["not_as_described"] = ["foto", "imagen", "descrip", "anunci", "diferente", "color", "material", "no es como", "pagina", "web", "tabla de tallas", "dice", "indicad", "mostrad"],
            ["defective"] = ["funciona", "defect", "averi", "enciend", "bateria", "carga", "falla", "error", "se apaga", "conecta", "parpade", "no prende", "se traba", "ruido"],
            ["damaged"] = ["danad", "golpe", "aplast", "rayad", "caja", "embalaje", "paquete", "transporte", "rot", "abollad", "astillad", "mojad", "repartidor", "roto", "rota", "partid", "grieta"],
            ["wrong_item"] = ["equivocad", "en vez", "lugar de", "otro", "otra", "pedi", "enviaron", "mandaron", "confund", "elegi", "seleccion", "nunca compre"],
            ["arrived_late"] = ["tarde", "retras", "semanas", "tard", "boda", "cumple", "evento", "despues", "a tiempo", "navidad", "reyes", "viaje", "fiesta", "demor"],
            ["changed_mind"] = ["cambie de opinion", "ya no", "no me gusta", "no lo necesito", "por error", "arrepent", "decidi", "ambos", "impulso", "no me convence", "me quedo con", "pense mejor"],
            ["better_price"] = ["barat", "precio", "oferta", "descuento", "rebaja", "otra tienda", "pague", "cupon", "amazon", "menos", "rebajad"],
            ["quality"] = ["calidad", "fina", "fino", "delgad", "bolitas", "costura", "desten", "lavad", "lavar", "se despega", "endeble", "acabado", "plastico", "se deshilach", "se rompio con", "mal hecho", "transparent"],
            ["other"] = ["regalo", "alerg", "mudanza", "duplicad", "familiar", "permit", "medico", "sarpullido", "pica", "colegio", "casero", "extranjero"],
        },
        ["ru"] = new Dictionary<string, string[]>
        {
            ["too_small"] = ["мал", "тесн", "узк", "коротк", "жмет", "давит", "на размер больше", "не застег", "не налез", "не влез", "впива", "туго"],
            ["too_large"] = ["велик", "больш", "широк", "длинн", "свобод", "болта", "спада", "на размер меньше", "меньше", "висит", "мешк", "сполза", "огромн"],
            ["not_as_described"] = ["фото", "описан", "картинк", "отлича", "цвет", "материал", "заявлен", "не соответств", "сайт", "карточк", "указан", "таблиц", "обещал"],
            ["defective"] = ["работа", "брак", "сломал", "включ", "заряж", "батаре", "аккумулятор", "глюч", "шум", "дефект", "неисправ", "подключ", "мига", "отключа", "не реагир"],
            ["damaged"] = ["поврежд", "помят", "царапин", "разбит", "коробк", "упаковк", "посылк", "треснул", "скол", "мокр", "раздавл", "курьер", "вмятин", "трещин"],
            ["wrong_item"] = ["не тот", "не то", "вместо", "другой", "другую", "другое", "перепута", "заказывал", "прислали", "выбирал", "выбрал", "не заказывал"],
            ["arrived_late"] = ["поздно", "опозд", "задерж", "недел", "долго", "свадьб", "день рождения", "праздник", "отпуск", "вовремя", "после", "новый год", "шла"],
            ["changed_mind"] = ["передумал", "не нужн", "не нравит", "разонрав", "случайно", "ошибочно", "решил", "оба", "импульс", "жалею", "не мое", "не моё"],
            ["better_price"] = ["дешевле", "цен", "скидк", "акци", "распродаж", "другом магазин", "заплатил", "промокод", "купон", "озон", "дешевл"],
            ["quality"] = ["качеств", "дешев", "тонк", "катышк", "шв", "шов", "стирк", "линя", "облез", "хлипк", "отклеил", "ниток", "нитк", "располз", "пластик", "просвечива", "полин"],
            ["other"] = ["подарок", "подарил", "аллерг", "переезд", "дубл", "родствен", "разреш", "врач", "сыпь", "зуд", "школ", "хозяин"],
        },
        ["ar"] = new Dictionary<string, string[]>
        {
            ["too_small"] = ["صغير", "ضيق", "قصير", "مقاس اكبر", "اكبر", "ما دخل", "ما يدخل", "ما يسكر", "يضغط", "يشد", "ضاغط"],
            ["too_large"] = ["كبير", "واسع", "طويل", "فضفاض", "مقاس اصغر", "اصغر", "يطيح", "يسقط", "يتدلى", "وسيع", "عريض"],
            ["not_as_described"] = ["صوره", "الصوره", "الصور", "وصف", "الوصف", "مختلف عن", "اللون", "لون", "الموقع", "الاعلان", "الخامه", "المكتوب", "جدول المقاسات", "مذكور", "المعروض"],
            ["defective"] = ["يشتغل", "شغال", "يعمل", "معطل", "خربان", "عطل", "البطاريه", "يشحن", "تشغيل", "يطفي", "ينطفي", "يفصل", "عيب", "عيب مصنعي", "ما يستجيب"],
            ["damaged"] = ["تالف", "مكسور", "خدش", "الكرتون", "العلبه", "التغليف", "الشحن", "مضروب", "مفتوح", "مبلول", "مشعور", "مندعس", "المندوب", "كسر"],
            ["wrong_item"] = ["غلط", "بدل", "بدال", "بدلا", "غير اللي", "طلبت", "ارسلوا", "وصلني", "اخترت", "ما طلبته", "منتج ثاني", "موديل ثاني"],
            ["arrived_late"] = ["متاخر", "تاخر", "تاخير", "اسبوع", "اسابيع", "العيد", "المناسبه", "الحفله", "رمضان", "الزواج", "العرس", "عيد ميلاد", "بعد ما", "الوقت", "السفر"],
            ["changed_mind"] = ["غيرت رايي", "ما عاد", "ما احتاج", "ما عجبني", "بالغلط", "ندمت", "قررت", "ما ابيه", "ما ابغاه", "مو حاجتي", "غيرت فكري", "الاثنين"],
            ["better_price"] = ["ارخص", "السعر", "سعر", "خصم", "عرض", "تخفيض", "محل ثاني", "دفعت", "كوبون", "نون", "تنزيلات", "اقل"],
            ["quality"] = ["الجوده", "جوده", "رديء", "ردي", "رخيص", "خفيف", "الخياطه", "الغسيل", "غسله", "غسلت", "تقشر", "وبر", "بهت", "خامه سيئه", "بلاستيك", "تفكك", "شفاف"],
            ["other"] = ["هديه", "حساسيه", "انتقال", "انتقل", "مكرر", "مسموح", "الطبيب", "الدكتور", "حكه", "المدرسه", "المالك", "اهداني"],
        },
        ["ko"] = new Dictionary<string, string[]>
        {
            ["too_small"] = ["작", "꽉", "짧", "조여", "조이", "끼어", "끼네", "끼고", "타이트", "한 치수 큰", "큰 사이즈", "안 잠", "안 들어가"],
            ["too_large"] = ["커", "크", "헐렁", "길어", "길고", "넉넉", "흘러내", "벗겨져", "한 치수 작", "작은 사이즈", "남아", "펄럭", "박스핏"],
            ["not_as_described"] = ["사진", "설명", "상세", "다르", "달라", "색상", "색깔", "소재", "표기", "상품페이지", "실측", "사이즈표", "기재", "광고"],
            ["defective"] = ["작동", "고장", "불량", "켜지", "충전", "배터리", "전원", "먹통", "소리가", "연결", "꺼져", "꺼지", "깜빡", "오류", "인식"],
            ["damaged"] = ["파손", "찌그러", "긁", "스크래치", "깨져", "깨진", "박스", "포장", "배송 중", "금이", "젖어", "눌려", "택배", "찢어"],
            ["wrong_item"] = ["잘못", "다른 상품", "대신", "주문한", "바뀌", "엉뚱", "오배송", "다른 게", "다른게", "선택한", "시킨"],
            ["arrived_late"] = ["늦", "지연", "주일", "행사", "결혼식", "생일", "여행", "오래", "제때", "명절", "추석", "크리스마스", "지나서"],
            ["changed_mind"] = ["단순변심", "변심", "마음이 바뀌", "필요 없", "필요없", "마음에 안", "실수로", "충동", "안 쓸", "둘 다", "고민하다"],
            ["better_price"] = ["싸", "저렴", "가격", "할인", "최저가", "쿠폰", "다른 곳", "세일", "쿠팡", "더 싸"],
            ["quality"] = ["품질", "퀄리티", "싸구려", "얇", "보풀", "바느질", "세탁", "빨래", "실밥", "마감", "허접", "벗겨", "플라스틱", "비침", "조잡", "뜯어"],
            ["other"] = ["선물", "알레르기", "이사", "중복", "가족이", "허용", "금지", "병원", "가려", "두드러기", "학교", "유학"],
        },
    };

    private static readonly Dictionary<string, (string Stem, string Reason)[]> Sorted = Stems.ToDictionary(
        kv => kv.Key,
        kv => kv.Value.SelectMany(r => r.Value.Select(s => (Stem: s, Reason: r.Key))).OrderByDescending(x => x.Stem.Length).ToArray());

    /// <summary>The reasons the lexicon finds in normalised text: one per word (its longest stem) and one per phrase.</summary>
    public static IEnumerable<string> Matches(string normalized, IReadOnlyList<string> words, string language)
    {
        if (!Sorted.TryGetValue(language, out var stems)) yield break;
        foreach (var (stem, reason) in stems)
            if (stem.Contains(' ') && normalized.Contains(stem, StringComparison.Ordinal)) yield return reason;
        foreach (var word in words)
        {
            // Arabic words carry the article and conjunctions in front (وال، بال، ال، و).
            var w = language == "ar" ? StripArabicPrefix(word) : word;
            foreach (var (stem, reason) in stems)
            {
                if (stem.Contains(' ')) continue;
                if (w.StartsWith(stem, StringComparison.Ordinal) || language == "ar" && word.StartsWith(stem, StringComparison.Ordinal)) { yield return reason; break; }
            }
        }
    }

    private static string StripArabicPrefix(string w)
    {
        foreach (var p in new[] { "وبال", "وال", "بال", "فال", "كال", "لل", "ال" })
            if (w.Length > p.Length + 2 && w.StartsWith(p, StringComparison.Ordinal)) return w[p.Length..];
        return w.Length > 3 && w[0] == 'و' ? w[1..] : w;
    }
}
