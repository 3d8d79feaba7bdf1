//! End-to-end tests of [`clean`] on small hand-written pages.

use super::*;

fn clean_str(html: &str) -> Cleaned {
    clean(&PageInput {
        body: html.as_bytes(),
        content_type: None,
        url: None,
    })
}

/// A news page with the usual chrome around a three-paragraph article.
fn news_page(paragraphs: &[&str]) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        r#"<!doctype html><html lang="en"><head><title>Treasury sanctions arms broker | Wire</title>
<style>body {{ color: red }}</style><script>var ads = "<p>not text</p>";</script></head>
<body>
<div id="cookie-banner"><p>We use cookies to improve your experience, accept them all or manage your choices now.</p></div>
<header class="site-header"><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/business">Business</a></li></ul></nav></header>
<main><article>
<h1>Treasury sanctions arms broker</h1>
<div class="byline">By Ann Lee</div>
<div class="share-bar"><a href="https://x.example/share">Share on X</a> <a href="mailto:">Email this article to a friend</a></div>
<div class="article-body">
{body}
</div>
<div class="related-stories"><h3>Related</h3><ul>
<li><a href="/a">Another story about sanctions that you may also like to read today</a></li>
<li><a href="/b">Yet another story about weapons that you may also like to read today</a></li></ul></div>
</article></main>
<section id="comments"><div class="comment"><p>This is a long reader comment that goes on and on about the article, with opinions, and more opinions, and then some.</p></div></section>
<footer><p>Copyright 2024 The Wire, all rights reserved, including the right to reproduce this page in whole or in part.</p></footer>
</body></html>"#
    )
}

const PARAGRAPHS: [&str; 3] = [
    "The US Treasury on Tuesday sanctioned a broker accused of arranging the transfer of North Korean weapons to Russia, in exchange for food and raw materials.",
    "Officials said the broker, working through companies in several countries, negotiated shipments of artillery shells and rockets over the past year.",
    "The sanctions freeze any assets the broker holds in the United States and bar Americans from doing business with the companies named on Tuesday.",
];

#[test]
fn keeps_paragraphs_and_drops_boilerplate() {
    let cleaned = clean_str(&news_page(&PARAGRAPHS));
    assert_eq!(cleaned.text, PARAGRAPHS.join("\n\n"));
    assert_eq!(cleaned.method, "scored");
    assert_eq!(
        cleaned.title.as_deref(),
        Some("Treasury sanctions arms broker | Wire")
    );
    assert_eq!(cleaned.lang.as_deref(), Some("en"));
    for junk in [
        "cookies",
        "Home",
        "Share",
        "Related",
        "reader comment",
        "Copyright",
        "not text",
        "color",
    ] {
        assert!(
            !cleaned.text.contains(junk),
            "{junk:?} leaked into {:?}",
            cleaned.text
        );
    }
}

#[test]
fn br_separated_text_keeps_line_breaks() {
    let page = format!(
        "<html><body><div class=nav><a href=/>Home</a></div><div class=story>{}<br><br>{}<br>{}</div></body></html>",
        PARAGRAPHS[0], PARAGRAPHS[1], PARAGRAPHS[2]
    );
    let cleaned = clean_str(&page);
    assert_eq!(
        cleaned.text,
        format!("{}\n\n{}\n{}", PARAGRAPHS[0], PARAGRAPHS[1], PARAGRAPHS[2])
    );
}

#[test]
fn json_ld_metadata_and_body_when_dom_is_thin() {
    let body = PARAGRAPHS.join("\n");
    let page = format!(
        r#"<html><head><script type="application/ld+json">
{{"@context":"https://schema.org","@type":"NewsArticle","headline":"Broker sanctioned",
"author":{{"@type":"Person","name":"Ann Lee"}},"datePublished":"2023-09-14T08:00:00Z",
"dateModified":"2023-09-14T09:30:00Z","publisher":{{"@type":"Organization","name":"The Wire"}},
"image":["https://example.org/lead.jpg"],"articleBody":{body:?}}}
</script></head><body><div id="app"><p>Loading the story, please wait.</p></div></body></html>"#
    );
    let cleaned = clean_str(&page);
    assert_eq!(cleaned.method, "json_ld");
    assert_eq!(cleaned.text, PARAGRAPHS.join("\n\n"));
    assert_eq!(cleaned.title.as_deref(), Some("Broker sanctioned"));
    assert_eq!(cleaned.byline.as_deref(), Some("Ann Lee"));
    assert_eq!(cleaned.site_name.as_deref(), Some("The Wire"));
    assert_eq!(
        cleaned.lead_image.as_deref(),
        Some("https://example.org/lead.jpg")
    );
    assert_eq!(
        cleaned.published.unwrap().to_rfc3339(),
        "2023-09-14T08:00:00+00:00"
    );
    assert_eq!(
        cleaned.modified.unwrap().to_rfc3339(),
        "2023-09-14T09:30:00+00:00"
    );
}

#[test]
fn relative_links_resolve_against_the_page_url() {
    let page = r#"<html><head><link rel="canonical" href="/world/broker"><meta property="og:image" content="img/lead.jpg"></head><body></body></html>"#;
    let url = Url::parse("https://news.example.org/world/broker?utm_source=feed").unwrap();
    let cleaned = clean(&PageInput {
        body: page.as_bytes(),
        content_type: None,
        url: Some(&url),
    });
    assert_eq!(
        cleaned.canonical_url.as_deref(),
        Some("https://news.example.org/world/broker")
    );
    assert_eq!(
        cleaned.lead_image.as_deref(),
        Some("https://news.example.org/world/img/lead.jpg")
    );
}

#[test]
fn dates_from_meta_and_time_elements() {
    let page = r#"<html><head><meta property="article:published_time" content="2024-03-01T10:00:00+01:00">
        <meta property="article:modified_time" content="2024-03-02"></head>
        <body><time datetime="2020-01-01">old</time></body></html>"#;
    let cleaned = clean_str(page);
    assert_eq!(
        cleaned.published.unwrap().to_rfc3339(),
        "2024-03-01T09:00:00+00:00"
    );
    assert_eq!(
        cleaned.modified.unwrap().to_rfc3339(),
        "2024-03-02T00:00:00+00:00"
    );
    let only_time =
        clean_str(r#"<article><time datetime="2022-05-06T07:08:09Z">6 May</time></article>"#);
    assert_eq!(
        only_time.published.unwrap().to_rfc3339(),
        "2022-05-06T07:08:09+00:00"
    );
}

#[test]
fn cyrillic_page_in_windows_1251_via_meta() {
    let paragraphs = [
        "Министерство финансов США ввело санкции против посредника, который организовал поставки оружия из Северной Кореи в Россию.",
        "По данным ведомства, в обмен на снаряды и ракеты Пхеньян получал продовольствие и сырьё, а сделки проходили через подставные компании.",
    ];
    let html = format!(
        "<html><head><meta charset=\"windows-1251\"></head><body>{}</body></html>",
        news_page(&paragraphs)
    );
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(&html);
    let cleaned = clean(&PageInput {
        body: &bytes,
        content_type: None,
        url: None,
    });
    assert_eq!(cleaned.text, paragraphs.join("\n\n"));
}

#[test]
fn cjk_page_with_bom_and_no_lang() {
    let paragraphs = [
        "美国财政部星期二宣布，对一名涉嫌安排朝鲜向俄罗斯转让武器的中间人实施制裁，交易以粮食和原材料作为交换。",
        "官员表示，该中间人通过多个国家的公司，在过去一年里谈判了炮弹和火箭的运输事宜，相关资产已被冻结。",
    ];
    let page = news_page(&paragraphs).replace(" lang=\"en\"", "");
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(page.as_bytes());
    let cleaned = clean(&PageInput {
        body: &bytes,
        content_type: Some("text/html; charset=iso-8859-1"),
        url: None,
    });
    assert_eq!(cleaned.text, paragraphs.join("\n\n"));
    assert_eq!(cleaned.lang.as_deref(), Some("zh"));
}

#[test]
fn arabic_right_to_left_page() {
    let paragraphs = [
        "فرضت وزارة الخزانة الأمريكية يوم الثلاثاء عقوبات على وسيط متهم بترتيب نقل أسلحة من كوريا الشمالية إلى روسيا مقابل الغذاء.",
        "وقال مسؤولون إن الوسيط تفاوض خلال العام الماضي على شحنات من قذائف المدفعية والصواريخ عبر شركات في عدة دول.",
    ];
    let page = news_page(&paragraphs).replace("<html lang=\"en\">", "<html dir=\"rtl\">");
    let cleaned = clean_str(&page);
    assert_eq!(cleaned.text, paragraphs.join("\n\n"));
    assert_eq!(cleaned.lang.as_deref(), Some("ar"));
}

#[test]
fn empty_and_garbage_input_never_fail() {
    for page in [
        "",
        "<",
        "</",
        "<!--",
        "<html",
        "&#xFFFFFFFF;",
        "<p a='unterminated",
        "\u{0}\u{1}",
    ] {
        let cleaned = clean_str(page);
        assert!(cleaned.text.len() <= page.len() + 4);
    }
    let cleaned =
        clean_str("<html><head><title>t</title></head><body> \n <img src=x> </body></html>");
    assert!(cleaned
        .warnings
        .iter()
        .any(|w| w.contains("no article text")));
}

#[test]
fn ten_megabyte_page() {
    // 10 MB of realistic chrome and scripts around one article.
    let mut page = String::with_capacity(10_500_000);
    page.push_str("<html><body>");
    while page.len() < 5_000_000 {
        page.push_str(
            "<div class=menu><a href=/x>Link</a></div><script>var x = '<p>no</p>';</script>",
        );
    }
    page.push_str("<article>");
    for paragraph in PARAGRAPHS {
        page.push_str(&format!("<p>{paragraph}</p>"));
    }
    page.push_str("</article>");
    while page.len() < 10_000_000 {
        page.push_str("<!-- comment --><style>.a{}</style><span>ok</span>");
    }
    let cleaned = clean_str(&page);
    assert!(
        cleaned.text.starts_with(PARAGRAPHS[0]),
        "{:?}",
        &cleaned.text[..200.min(cleaned.text.len())]
    );
}

#[test]
fn hundred_thousand_deep_nesting() {
    let depth = 100_000;
    let mut page = String::with_capacity(depth * 12 + 1000);
    page.push_str("<html><body>");
    for _ in 0..depth {
        page.push_str("<div>");
    }
    page.push_str(&format!("<p>{}</p>", PARAGRAPHS[0]));
    for _ in 0..depth {
        page.push_str("</div>");
    }
    page.push_str(&format!("<p>{}</p></body></html>", PARAGRAPHS[1]));
    let cleaned = clean_str(&page);
    assert!(cleaned.text.contains(PARAGRAPHS[0]));
    assert!(cleaned.warnings.iter().any(|w| w.contains("nested deeper")));
    // Unclosed, too.
    let unclosed = "<span>".repeat(depth) + PARAGRAPHS[2];
    assert!(clean_str(&unclosed).text.contains(PARAGRAPHS[2]));
}

#[test]
fn five_megabyte_text_node() {
    let sentence = "Shells and rockets were shipped, officials said, in exchange for food. ";
    let text = sentence.repeat(5_000_000 / sentence.len());
    let page = format!("<html><body><p>{text}</p></body></html>");
    let cleaned = clean_str(&page);
    assert_eq!(cleaned.text, text.trim_end());
}

#[test]
fn old_table_layout_with_br_paragraphs() {
    let page = format!(
        r##"<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"><title>Arms deal</title></head>
<body bgcolor="#ffffff"><table width="100%"><tr><td colspan=2><a href="/"><img src="logo.gif"></a> <a href="/news">News</a> | <a href="/sport">Sport</a> | <a href="/contact">Contact</a></td></tr>
<tr><td width="150" valign="top"><a href="/a">World</a><br><a href="/b">Business</a><br><a href="/c">Politics</a><br><a href="/d">Science</a></td>
<td valign="top"><font face="Arial" size="2"><b>Arms deal</b><br><br>{}<br><br>{}<br><br>{}</font></td></tr>
<tr><td colspan=2><font size=1>&copy; 2008 The Paper. <a href="/privacy">Privacy</a></font></td></tr></table></body></html>"##,
        PARAGRAPHS[0], PARAGRAPHS[1], PARAGRAPHS[2]
    );
    let cleaned = clean_str(&page);
    assert!(
        cleaned.text.contains(PARAGRAPHS[0]) && cleaned.text.contains(PARAGRAPHS[2]),
        "{:?}",
        cleaned.text
    );
    for junk in ["Sport", "Business", "Privacy"] {
        assert!(
            !cleaned.text.contains(junk),
            "{junk:?} leaked into {:?}",
            cleaned.text
        );
    }
}

/// Tag soup from a fixed seed: whatever the input, `clean` returns.
#[test]
fn tag_soup_never_panics() {
    const PIECES: &[&str] = &[
        "<p>",
        "</p>",
        "<div class=\"share\">",
        "</div>",
        "<a href='x'>",
        "</a>",
        "<br>",
        "<li>",
        "<ul>",
        "</ul>",
        "<table><tr><td>",
        "</td>",
        "<script>",
        "</script>",
        "<style>",
        "<!--",
        "-->",
        "<![CDATA[",
        "]]>",
        "<svg>",
        "</svg>",
        "&amp;",
        "&#x1F600;",
        "&#99999999;",
        "&nbsp",
        "&",
        "<",
        ">",
        "\"",
        "'",
        "=",
        "<h1>",
        "</h1>",
        "Привет, мир. ",
        "美国财政部。",
        "عقوبات، جديدة ",
        "text, with commas, ",
        "<title>",
        "</title>",
        "<meta charset=",
        "<script type=application/ld+json>{\"@type\":\"NewsArticle\",\"articleBody\":\"",
        "\"}",
        "<time datetime=",
        "<body>",
        "<html lang=",
        "</body>",
        "<x-custom>",
        "</x-custom>",
        "<textarea>",
        "<plaintext>",
        "\u{0}",
        "é",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..400 {
        let mut page = String::new();
        for _ in 0..200 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            page.push_str(PIECES[(state % PIECES.len() as u64) as usize]);
        }
        let cleaned = clean_str(&page);
        assert!(!cleaned.method.is_empty());
        // Also as raw bytes cut at an arbitrary point (possibly inside a character).
        let cut = (state as usize) % page.len().max(1);
        clean(&PageInput {
            body: &page.as_bytes()[..cut],
            content_type: Some("text/html; charset=utf-8"),
            url: None,
        });
    }
}

#[test]
fn zero_width_spacers_make_no_paragraphs() {
    let page = format!(
        "<html><body><article><p>{}</p><p>\u{200B}</p><p>&#8203;</p><p>{}</p></article></body></html>",
        PARAGRAPHS[0], PARAGRAPHS[1]
    );
    assert_eq!(
        clean_str(&page).text,
        format!("{}\n\n{}", PARAGRAPHS[0], PARAGRAPHS[1])
    );
}

/// Issue 15: pages whose `<head>` is broken came out with no text and no
/// title. Each raw-text element left open is closed where markup resumes.
#[test]
fn broken_head_still_gives_text_and_title() {
    let page = news_page(&PARAGRAPHS);
    let title = "Treasury sanctions arms broker | Wire";
    for (what, broken) in [
        ("title", page.replacen("</title>", "", 1)),
        ("script", page.replacen("</script>", "", 1)),
        ("style", page.replacen("</style>", "", 1)),
        (
            "comment",
            page.replacen("</title>", "</title><!-- analytics", 1),
        ),
        (
            "textarea",
            page.replacen("</title>", "</title><textarea>", 1),
        ),
        ("head", page.replacen("</head>\n<body>", "", 1)),
    ] {
        let cleaned = clean_str(&broken);
        assert_eq!(cleaned.text, PARAGRAPHS.join("\n\n"), "unclosed {what}");
        assert_eq!(cleaned.title.as_deref(), Some(title), "unclosed {what}");
    }
}

/// Issue 15: an unclosed `<!--` in the head ends, by HTML5, at the first
/// `-->` of the page, often its last line: a browser shows nothing. The
/// page is parsed again with the comment ended where markup resumes. The
/// text is German, French and Polish: nothing here reads words.
#[test]
fn comment_left_open_in_the_head_does_not_empty_the_page() {
    let german = [
        "Die Bundesregierung hat am Dienstag neue Sanktionen gegen einen Waffenhändler verhängt, der Lieferungen aus Nordkorea nach Russland vermittelt haben soll.",
        "Nach Angaben des Finanzministeriums wurden die Geschäfte über Scheinfirmen in drei Ländern abgewickelt, die Konten sind inzwischen eingefroren.",
        "Der Händler bestreitet die Vorwürfe; sein Anwalt kündigte an, gegen die Entscheidung vor Gericht zu ziehen, notfalls bis zur letzten Instanz.",
    ];
    let french = [
        "Le gouvernement a annoncé mardi de nouvelles sanctions contre un courtier accusé d'avoir organisé des livraisons d'armes vers la Russie.",
        "Selon le ministère, les paiements transitaient par des sociétés écrans établies dans trois pays, dont les comptes ont été gelés cette semaine.",
        "L'avocat du courtier conteste ces accusations et entend saisir la justice dans les prochains jours, a-t-il déclaré à la presse.",
    ];
    let polish = [
        "Rząd ogłosił we wtorek nowe sankcje wobec pośrednika oskarżonego o organizowanie dostaw broni z Korei Północnej do Rosji w zamian za żywność.",
        "Według ministerstwa płatności przechodziły przez spółki fasadowe zarejestrowane w trzech krajach, a ich rachunki zostały już zamrożone.",
        "Pełnomocnik pośrednika zaprzecza zarzutom i zapowiada odwołanie się od decyzji do sądu, jeśli będzie trzeba, aż do ostatniej instancji.",
    ];
    for paragraphs in [german, french, polish] {
        let page = news_page(&paragraphs);
        let with_last_comment = page.replace(
            "</body></html>",
            "<!-- generated in 12 ms --></body></html>",
        );
        for (what, broken) in [
            (
                "comment before the title",
                with_last_comment.replacen("<head>", "<head><!-- unclosed ", 1),
            ),
            (
                "comment after the title",
                with_last_comment.replacen(
                    "</title>",
                    "</title><!--[if IE]><link rel=stylesheet href=ie.css>",
                    1,
                ),
            ),
            (
                "style closed only in the body",
                with_last_comment
                    .replacen("</style>", "", 1)
                    .replace("</footer>", "</footer><style>.x{}</style>"),
            ),
        ] {
            let cleaned = clean_str(&broken);
            assert_eq!(cleaned.text, paragraphs.join("\n\n"), "{what}");
            assert_eq!(
                cleaned.title.as_deref(),
                Some("Treasury sanctions arms broker | Wire"),
                "{what}"
            );
        }
    }
}

/// A comment that is closed and holds a stretch of old markup in the body
/// stays a comment: only one that swallows the head/body boundary is
/// recovered.
#[test]
fn commented_out_markup_in_the_body_stays_out() {
    let old = "<p>An older version of this story, commented out by the editors, that should not be shown to readers of the page.</p>".repeat(20);
    let page = news_page(&PARAGRAPHS).replace(
        "<div class=\"article-body\">",
        &format!("<div class=\"article-body\"><!-- {old} -->"),
    );
    let cleaned = clean_str(&page);
    assert_eq!(cleaned.text, PARAGRAPHS.join("\n\n"));
}

/// Issue 15: an unclosed `<!--` in the head that a comment in the middle of
/// the article ends. A browser would hide the article's start; the page is
/// long (scripts), so what is swallowed (a head of 5 KB and four paragraphs)
/// is under a sixteenth of it, and the
/// rest of the article is still there, so the strict parse holds more than
/// half the text: the recovering parse is kept all the same.
#[test]
fn an_unclosed_head_comment_ended_inside_the_article_loses_nothing() {
    let paragraphs: Vec<String> = (1..=12)
        .map(|n| {
            format!(
                "Paragraph {n} of the report says that the ministry spent more than it was \
                 allowed to on the new port, according to the auditors, who asked for a review."
            )
        })
        .collect();
    let mut body = String::new();
    for (index, paragraph) in paragraphs.iter().enumerate() {
        body.push_str(&format!("<p>{paragraph}</p>\n"));
        if index == 3 {
            body.push_str("<!-- ad slot -->\n");
        }
    }
    let page = format!(
        "<html><head><!-- unclosed <title>Port audit</title>{}</head><body><article>{body}</article>\
         <script>{}</script></body></html>",
        "<meta property=\"article:tag\" content=\"ports, audits, ministries\">\n".repeat(80),
        "var x = 1;\n".repeat(20_000)
    );
    let cleaned = clean_str(&page);
    assert_eq!(cleaned.text, paragraphs.join("\n\n"));
}

/// Issue 15: an older page sets its headline in `<b>` at the top of the text
/// cell, not in a heading: a first line that repeats the title goes, as a
/// heading would; a first line that only rewords it stays.
#[test]
fn a_bold_headline_repeating_the_title_is_not_text() {
    let paragraphs = [
        "The city council voted on Tuesday to approve a budget that funds three new schools, a larger bus network and repairs to the water system.",
        "Critics said the budget relies on optimistic revenue forecasts and warned that taxes could rise if the economy slows down next year.",
    ];
    for (first_line, kept) in [
        ("Council approves budget", false),
        ("Budget approved by the council", true),
    ] {
        let page = format!(
            "<html><head><title>Council approves budget - The Daily Town</title></head><body>\
             <table><tr><td width=150><a href=\"/a\">News</a><br><a href=\"/b\">Sports</a></td>\
             <td><font size=4><b>{first_line}</b></font><br><br>{}<br><br>{}</td></tr></table></body></html>",
            paragraphs[0], paragraphs[1]
        );
        let cleaned = clean_str(&page);
        assert_eq!(
            cleaned.text.starts_with(first_line),
            kept,
            "{:?}",
            cleaned.text
        );
        assert!(
            cleaned.text.ends_with(&paragraphs.join("\n\n")),
            "{:?}",
            cleaned.text
        );
    }
}

/// Issue 15: a link left open before the article (`<a name="top">`, an
/// anchor that links nowhere, or `<a href="/">Home` without `</a>`) stays open
/// across the blocks that follow, as in a browser; neither makes the article
/// link text.
#[test]
fn a_link_left_open_before_the_article_does_not_make_it_links() {
    // Long enough (over 1,000 bytes) not to be a teaser card's link.
    let paragraphs: Vec<&str> = PARAGRAPHS.iter().cycle().take(9).copied().collect();
    for opener in ["<a name=\"top\">", "<a href=\"/\">Home"] {
        let page = news_page(&paragraphs).replace(
            "<div class=\"article-body\">",
            &format!("{opener}<div class=\"article-body\">"),
        );
        let cleaned = clean_str(&page);
        assert_eq!(cleaned.method, "scored", "{opener}");
        assert!(
            cleaned.text.ends_with(&paragraphs.join("\n\n")),
            "{opener}: {:?}",
            cleaned.text
        );
    }
}

/// Issue 15 (empty pages): a frameset page whose only text is its
/// `<noframes>` content (what a browser without frames shows) is not empty.
#[test]
fn a_frameset_page_keeps_its_noframes_text() {
    let page = format!(
        "<html><head><title>Wire</title></head><frameset cols=\"20%,80%\"><frame src=\"nav.html\">\
         <frame src=\"story.html\"><noframes><body><p>{}</p><p>{}</p></body></noframes></frameset></html>",
        PARAGRAPHS[0], PARAGRAPHS[1]
    );
    let cleaned = clean_str(&page);
    assert_eq!(
        cleaned.text,
        PARAGRAPHS[..2].join("\n\n"),
        "{}",
        cleaned.method
    );
}

/// Issue 15: a page saved while a cookie dialog was open: everything but the
/// dialog is `aria-hidden` (or the app is `display:none` until its script
/// runs). The hidden wrapper holds the page's `<main>` and most of its
/// prose, so it is the page, not a hidden copy: the article is found, the
/// dialog is not.
#[test]
fn a_page_hidden_behind_an_open_dialog_is_still_read() {
    let dialog = "We and our partners store and access information on your device, such as \
        cookies, and process personal data such as unique identifiers and standard information \
        sent by a device for personalised ads and content, ad and content measurement, and \
        audience insights, as well as to develop and improve products.";
    let paragraphs: Vec<&str> = PARAGRAPHS.iter().cycle().take(6).copied().collect();
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    for hiding in ["aria-hidden=\"true\"", "style=\"display: none\""] {
        let page = format!(
            "<html><head><title>Wire</title></head><body><div id=\"page\" {hiding}><main>\
             <article><h1>Treasury sanctions arms broker</h1>{body}</article></main></div>\
             <div role=\"dialog\"><p>{dialog}</p><button>Accept</button></div></body></html>"
        );
        let cleaned = clean_str(&page);
        assert_eq!(cleaned.text, paragraphs.join("\n\n"), "{hiding}");
    }
}

/// Issue 15: an old table layout whose row holds the article's cell and a
/// column of headlines with blurbs: the row scores best (it gets points from
/// both), but a row is columns side by side, so its best cell stands for it
/// and the headline column, mostly links, is not taken as a sibling.
#[test]
fn a_column_of_headlines_beside_the_article_cell_stays_out() {
    let column: String = (0..8)
        .map(|n| {
            format!(
                "<p><b><a href=\"/s{n}\">Otra noticia número {n} de la sección local</a></b><br>\
                 Un resumen breve de otra noticia de hoy, con algunas palabras más para que sea un resumen.</p>"
            )
        })
        .collect();
    let spanish = [
        "El concejo municipal aprobó el martes un presupuesto que financia tres escuelas nuevas, una red de autobuses más amplia y reparaciones del acueducto.",
        "El alcalde, que impulsaba el plan desde la primavera pasada, dijo que la votación marca un cambio para la ciudad y sus barrios más pobres.",
        "Los críticos dijeron que el presupuesto depende de previsiones optimistas y advirtieron que los impuestos podrían subir si la economía se frena.",
    ];
    let page = format!(
        "<html><head><title>Presupuesto</title></head><body><table><tr><td valign=top>\
         <font size=2>{}</font></td><td width=200 valign=top>{column}</td></tr></table></body></html>",
        spanish.join("<br><br>")
    );
    let cleaned = clean_str(&page);
    assert_eq!(cleaned.text, spanish.join("\n\n"));
}

/// Issue 15: an old table layout with a left column of section links, each
/// with a one-line blurb under a `<br>`: lines of which every other is a link
/// are one block, not many paragraphs, so the column does not outscore the
/// article cell beside it (whose related-links box costs it some score).
#[test]
fn a_column_of_links_and_blurbs_is_not_paragraphs() {
    let column: String = (0..10)
        .map(|n| {
            format!(
                "<a href=\"/s{n}\"><b>Rubrik {n}</b></a><br><font size=1>Neu: Eine kurze Meldung \
                 aus der Region mit einigen Worten</font><br><br>"
            )
        })
        .collect();
    let related: String = (0..5)
        .map(|n| format!("<a href=\"/r{n}\">Ein weiterer Artikel zum Thema Nummer {n}</a><br>"))
        .collect();
    let german = [
        "Der Stadtrat hat am Montagabend mit knapper Mehrheit beschlossen, das alte Hallenbad bis zum Herbst zu schließen und durch einen Neubau zu ersetzen.",
        "Die Kosten für den Neubau werden auf rund zwölf Millionen Euro geschätzt, ein Drittel davon soll aus Fördermitteln des Landes kommen.",
        "Vereine und Schulen müssen in der Zwischenzeit auf die Bäder der Nachbargemeinden ausweichen, die Fahrtkosten übernimmt die Stadt.",
        "Der Neubau soll im Frühjahr beginnen, wenn das Gericht die Klagen von zwei Anwohnern bis dahin abweist.",
    ];
    let paragraphs: String = german.iter().map(|p| format!("<p>{p}</p>")).collect();
    let page = format!(
        "<html><head><title>Hallenbad</title></head><body><table width=760><tr>\
         <td width=180 valign=top>{column}</td><td valign=top><h2>Hallenbad schließt</h2>\
         <table align=right width=180 border=1><tr><td><b>Mehr zum Thema</b><br>{related}</td></tr></table>\
         {paragraphs}</td></tr></table></body></html>"
    );
    let cleaned = clean_str(&page);
    assert!(
        cleaned.text.ends_with(&german.join("\n\n")),
        "{:?}",
        cleaned.text
    );
    assert!(!cleaned.text.contains("Rubrik"), "{:?}", cleaned.text);
}

/// Issue 15: an old table layout, the article one `<td>` among navigation,
/// advertising and footer cells, its paragraphs `<br><br>`-separated text
/// in `<font>`: the text cell is chosen and split at each double break; a
/// picture in a cell of its own with a credit under it is left out.
#[test]
fn table_layout_text_cell_split_at_double_breaks() {
    let german = [
        "Der Stadtrat hat am Montagabend mit knapper Mehrheit beschlossen, das alte Hallenbad bis zum Herbst zu schließen und durch einen Neubau zu ersetzen.",
        "Die Kosten für den Neubau werden auf rund zwölf Millionen Euro geschätzt, ein Drittel davon soll aus Fördermitteln des Landes kommen.",
        "Vereine und Schulen müssen in der Zwischenzeit auf die Bäder der Nachbargemeinden ausweichen, die Fahrtkosten übernimmt die Stadt.",
    ];
    let polish = [
        "Rada miasta zdecydowała w poniedziałek wieczorem niewielką większością głosów o zamknięciu starego krytego basenu do jesieni tego roku.",
        "Koszt budowy nowego obiektu szacuje się na około dwanaście milionów euro, z czego jedna trzecia ma pochodzić z funduszy wojewódzkich.",
        "Kluby i szkoły będą w tym czasie korzystać z basenów w sąsiednich gminach, a koszty dojazdu pokryje miasto z własnego budżetu.",
    ];
    for paragraphs in [german, polish] {
        let page = format!(
            r##"<html><head><title>Hallenbad</title></head><body><table width="760" border=0 cellpadding=0>
<tr><td colspan=3><a href="/"><img src="/logo.gif"></a></td></tr>
<tr><td width=140 valign=top bgcolor="#eeeeee"><a href="/lokales">Lokales</a><br><a href="/sport">Sport</a><br><a href="/kultur">Kultur</a><br><a href="/wetter">Wetter</a><br><a href="/archiv">Archiv</a></td>
<td width=480 valign=top><font face="Verdana" size=2><b>Hallenbad schließt</b><br><br>
{}<br><br><table align=right><tr><td><img src="/bad.jpg"><br>Foto: Archiv</td></tr></table>
{}<br>
<br>
{}<br><br><a href="/druck">Drucken</a> | <a href="/senden">Senden</a></font></td>
<td width=140 valign=top><a href="https://ads.example/c?1"><img src="/banner1.gif"></a><br>Anzeige<br><a href="https://ads.example/c?2"><img src="/banner2.gif"></a></td></tr>
<tr><td colspan=3><font size=1>&copy; 2006 Stadtanzeiger | <a href="/impressum">Impressum</a> | <a href="/kontakt">Kontakt</a></font></td></tr>
</table></body></html>"##,
            paragraphs[0], paragraphs[1], paragraphs[2]
        );
        let cleaned = clean_str(&page);
        assert!(
            cleaned.text.contains(&paragraphs.join("\n\n")),
            "{:?}",
            cleaned.text
        );
        for junk in [
            "Lokales",
            "Archiv",
            "Anzeige",
            "Impressum",
            "Drucken",
            "Foto",
        ] {
            assert!(
                !cleaned.text.contains(junk),
                "{junk:?} leaked into {:?}",
                cleaned.text
            );
        }
    }
}

/// Forms of broken markup, repeated: each search for a missing end runs
/// once, not once per element.
#[test]
fn many_unclosed_raw_text_elements() {
    for piece in [
        "<script>x</head>",
        "<script>\n",
        "<title>",
        "<textarea>",
        "<style>",
        "<!--",
        "<!-- x --!",
        "<iframe>",
        "<svg>",
    ] {
        let page = piece.repeat(2_000_000 / piece.len()) + "<p>" + PARAGRAPHS[0] + "</p>";
        let started = std::time::Instant::now();
        let cleaned = clean_str(&page);
        assert!(cleaned.text.len() <= page.len());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{piece:?} took {:?}",
            started.elapsed()
        );
    }
}

/// The recovering re-parse runs at most once and stays linear, even when
/// every one of many constructs swallows the head/body boundary.
#[test]
fn recovery_from_a_swallowed_head_is_bounded() {
    for piece in ["<script>\n", "<style>", "<textarea>", "<!-- x "] {
        let closer = match piece {
            "<script>\n" => "</script>",
            "<style>" => "</style>",
            "<textarea>" => "</textarea>",
            _ => "-->",
        };
        let page = format!(
            "<html><head>{}<body><p>{}</p>{closer}<!-- -->",
            piece.repeat(2_000_000 / piece.len()),
            PARAGRAPHS[0]
        );
        let started = std::time::Instant::now();
        let cleaned = clean_str(&page);
        assert!(cleaned.text.len() <= page.len());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{piece:?} took {:?}",
            started.elapsed()
        );
    }
}

/// Issue 15: a class naming a hidden part (Drupal's `field--label-hidden`)
/// or a variant (`section--has-ads`) does not drop the block; a `<header>`
/// inside the article holds its standfirst.
#[test]
fn names_of_parts_and_variants_do_not_drop_article_blocks() {
    let standfirst = "The broker arranged shipments for more than a year, according to officials who spoke on Tuesday.";
    let page = format!(
        r#"<html><head><title>Broker sanctioned</title></head><body>
<header class="site"><a href="/">Home</a> <a href="/world">World</a></header>
<article><header><h1>Broker sanctioned</h1><p>{standfirst}</p></header>
<div class="field field--name-intro field--label-hidden"><p>{}</p></div>
<section class="story section--has-ads"><p>{}</p><p>{}</p></section>
</article></body></html>"#,
        PARAGRAPHS[0], PARAGRAPHS[1], PARAGRAPHS[2]
    );
    let cleaned = clean_str(&page);
    assert_eq!(
        cleaned.text,
        [standfirst, PARAGRAPHS[0], PARAGRAPHS[1], PARAGRAPHS[2]].join("\n\n")
    );
}

/// Issue 15: in `<br>`-separated text (old table layouts), a line of two or
/// more links is navigation; a line with one link, or with words between
/// links, is text.
#[test]
fn br_lines_of_links_are_dropped() {
    let page = format!(
        r#"<html><head><title>Arms deal</title></head><body><table><tr>
<td width=140><a href="/a">Local</a><br><a href="/b">Region</a><br><a href="/c">Weather</a></td>
<td><font size=2>{}<br><br>{}<br><br>Source: <a href="/r">the Treasury's statement</a><br><br>{}<br><br>
<a href="/print">Print this story</a> | <a href="/mail">E-mail this story</a></font></td></tr></table></body></html>"#,
        PARAGRAPHS[0], PARAGRAPHS[1], PARAGRAPHS[2]
    );
    let cleaned = clean_str(&page);
    assert_eq!(
        cleaned.text,
        format!(
            "{}\n\n{}\n\nSource: the Treasury's statement\n\n{}",
            PARAGRAPHS[0], PARAGRAPHS[1], PARAGRAPHS[2]
        )
    );
}

/// Issue 15: in an old table layout the links to related stories follow the
/// text in the same cell, one a line (perhaps with its date) under a label:
/// the run and its label go, a line with one source link among the text
/// stays.
#[test]
fn a_run_of_link_lines_after_br_text_goes_with_its_label() {
    let german = [
        "Der Gemeinderat hat am Dienstagabend nach langer Debatte beschlossen, die Ortsdurchfahrt im Frühjahr für drei Monate zu sperren.",
        "Die Bauarbeiten sollen nach Angaben der Verwaltung rund 2,4 Millionen Euro kosten, wovon das Land einen großen Teil übernimmt.",
        "Der Verkehr wird über die Kreisstraße umgeleitet, für Radfahrer und Fußgänger bleibt ein schmaler Durchgang frei.",
    ];
    // Each related link alone on its line, or with its date beside it.
    for (separator, date) in [("<br>", ""), ("<br><br>", ""), ("<br>", " (11.03.2008)")] {
        let page = format!(
            r#"<html><head><title>Ortsdurchfahrt</title></head><body><table><tr>
<td width=140><a href="/a">Lokales</a><br><a href="/b">Region</a><br><a href="/c">Wetter</a></td>
<td>{}{separator}{}{separator}Quelle: <a href="/q">Mitteilung der Gemeinde</a>{separator}{}<br><br>
<b>Mehr zum Thema</b><br><a href="/r1">Haushalt: Gemeinderat streitet über Schulden</a>{date}<br>
<a href="/r2">Umleitung: Anwohner sammeln Unterschriften</a>{date}<br><a href="/r3">Leserbriefe zur Sperrung</a>{date}</td></tr></table></body></html>"#,
            german[0], german[1], german[2]
        );
        let cleaned = clean_str(&page);
        assert!(cleaned.text.contains(german[0]), "{:?}", cleaned.text);
        assert!(
            cleaned.text.trim_end().ends_with(german[2]),
            "{:?}",
            cleaned.text
        );
        assert!(
            cleaned.text.contains("Quelle: Mitteilung der Gemeinde"),
            "{:?}",
            cleaned.text
        );
        for junk in ["Mehr zum Thema", "Haushalt", "Leserbriefe"] {
            assert!(
                !cleaned.text.contains(junk),
                "{junk:?} in {:?}",
                cleaned.text
            );
        }
    }
}

/// Issue 15: "commentary" names an opinion article, not a comment thread.
#[test]
fn a_commentary_is_not_a_comment_thread() {
    let page = format!(
        r#"<html><body><div class="news commentary article"><p>{}</p><p>{}</p></div>
<div class="comments"><p>{}</p></div></body></html>"#,
        PARAGRAPHS[0], PARAGRAPHS[1], PARAGRAPHS[2]
    );
    assert_eq!(
        clean_str(&page).text,
        format!("{}\n\n{}", PARAGRAPHS[0], PARAGRAPHS[1])
    );
}

#[test]
fn standfirst_in_the_article_header_is_kept() {
    // A German page: the lead sits in the article's header, the body in a
    // sibling; a byline and a date in the header are not prose.
    let html = format!(
        r#"<html lang="de"><head><title>Autohäuser öffnen wieder</title></head><body>
<nav><a href="/">Start</a> <a href="/wirtschaft">Wirtschaft</a></nav>
<article><header><h1>Autohäuser öffnen wieder</h1>
<div class="meta"><span>Von Anna Berg</span> <time>20. April 2020</time></div>
<div class="summary"><p>Nach den Lockerungen dürfen die Autohäuser in Thüringen wieder öffnen, doch die Händler rechnen mit einem langsamen Neustart.</p></div>
</header>
<section><div class="article-body">{}</div>
<ul><li><a href="/a">Mehr</a></li><li><a href="/b">Weiter</a></li></ul></section>
</article></body></html>"#,
        PARAGRAPHS.map(|p| format!("<p>{p}</p>")).join("\n")
    );
    let cleaned = clean_str(&html);
    assert!(
        cleaned.text.starts_with("Nach den Lockerungen dürfen"),
        "{}",
        cleaned.text
    );
    assert!(cleaned.text.ends_with(PARAGRAPHS[2]), "{}", cleaned.text);
    assert!(!cleaned.text.contains("Anna Berg"), "{}", cleaned.text);
    assert!(
        !cleaned.text.contains("Autohäuser öffnen"),
        "{}",
        cleaned.text
    );
}

#[test]
fn a_forum_thread_of_posts_named_comments_is_the_page() {
    // Every post of this (Polish) forum thread is a "comment": with nothing
    // else on the page, the posts are its text, not a thread to drop.
    let posts = [
        "Witam, od aktualizacji systemu telefon nie łączy się z siecią komórkową, choć w domu przez wifi wszystko działa bez problemu.",
        "Miałem to samo po ostatniej aktualizacji, pomogło dopiero ponowne uruchomienie telefonu i ręczny wybór operatora sieci.",
        "U mnie problem zniknął po tygodniu, wygląda na to, że operator coś zmienił po swojej stronie, bo nic nie ruszałem.",
        "Warto też sprawdzić ustawienia APN, bo aktualizacja potrafi je wyzerować, a bez nich dane komórkowe po prostu nie działają.",
    ];
    let html = format!(
        r#"<html lang="pl"><head><title>Brak sieci po aktualizacji</title></head><body>
<nav><a href="/">Forum</a> <a href="/nowe">Nowe</a></nav>
<main><h1>Brak sieci po aktualizacji</h1>{}</main>
<footer><a href="/regulamin">Regulamin</a></footer></body></html>"#,
        posts
            .map(|p| format!(
                r#"<div class="comment"><span class="comment-author">jan</span><div class="comment-text">{p}</div></div>"#
            ))
            .join("\n")
    );
    let cleaned = clean_str(&html);
    assert_eq!(cleaned.method, "scored");
    for post in posts {
        assert!(cleaned.text.contains(post), "{}", cleaned.text);
    }
}

#[test]
fn decomposed_letters_come_out_composed() {
    // "Babyschalen geprüft" with "u" + U+0308, as some pages spell it.
    let decomposed = "Besonders bei Babyschalen sollte gepru\u{0308}ft werden, ob der Sitz zum Fahrzeug passt und richtig befestigt ist.";
    let cleaned = clean_str(&news_page(&[decomposed, PARAGRAPHS[1], PARAGRAPHS[2]]));
    assert!(
        cleaned
            .text
            .starts_with("Besonders bei Babyschalen sollte geprüft werden"),
        "{}",
        cleaned.text
    );
}

#[test]
fn soft_hyphens_are_dropped_from_text_and_title() {
    // Soft hyphens in every long word, as some CMSs hyphenate for narrow
    // screens: invisible on the page, so gone from the text.
    let hyphenated = "Wäh\u{ad}rend Sie über den Markt schlen\u{ad}dern, pro\u{ad}bieren Ihre Kinder aller\u{ad}lei feine Köst\u{ad}lich\u{ad}kei\u{ad}ten.";
    let page = news_page(&[hyphenated, PARAGRAPHS[1], PARAGRAPHS[2]])
        .replace("<title>Treasury", "<title>Trea\u{ad}sury");
    let cleaned = clean_str(&page);
    assert!(
        cleaned
            .text
            .starts_with("Während Sie über den Markt schlendern, probieren"),
        "{}",
        cleaned.text
    );
    assert!(!cleaned.text.contains('\u{ad}'), "{}", cleaned.text);
    assert_eq!(
        cleaned.title.as_deref(),
        Some("Treasury sanctions arms broker | Wire")
    );
}

#[test]
fn a_header_of_prose_outside_the_article_is_not_a_banner() {
    // A French page whose standfirst sits in a `<header>` beside the body,
    // inside `<main>`; the site's banner (links) stays out.
    let html = format!(
        r#"<html lang="fr"><head><title>Le port rouvre</title></head><body>
<header class="site"><a href="/">Accueil</a> <a href="/monde">Monde</a> <a href="/eco">Économie</a></header>
<main><header class="intro"><h1>Le port rouvre</h1>
<p>Après trois semaines de grève, le port de Marseille a rouvert lundi matin, et les premiers navires ont été déchargés.</p></header>
<div class="corps">{}</div><ul><li><a href="/a">Lire aussi</a></li><li><a href="/b">À voir</a></li></ul>
</main></body></html>"#,
        PARAGRAPHS.map(|p| format!("<p>{p}</p>")).join("\n")
    );
    let cleaned = clean_str(&html);
    assert!(
        cleaned.text.starts_with("Après trois semaines de grève"),
        "{}",
        cleaned.text
    );
    assert!(!cleaned.text.contains("Accueil"), "{}", cleaned.text);
}

#[test]
fn sections_named_alike_without_a_common_parent_are_one_article() {
    // A page builder: each section of the article sits deep in its own
    // row, beside rows of other things; only the sections' name repeats.
    let section = |inner: &str, paragraphs: &[&str]| {
        let paragraphs: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
        format!(
            "<div class=\"row\"><div class=\"col\"><div class=\"cell\"><div class=\"box\">\
             <section class=\"text-section\"><div class=\"{inner}\">{paragraphs}</div></section>\
             </div></div></div></div>"
        )
    };
    let first = "Die Bundesregierung hat am Dienstag neue Ausfuhrgenehmigungen für Rüstungsgüter erteilt, wie aus einem Schreiben an den Ausschuss hervorgeht.";
    let second = "Nach Angaben des Ministeriums betreffen die Genehmigungen vor allem Fahrzeuge und Munition, die an Partnerländer geliefert werden sollen.";
    let third = "Die Opposition kritisierte die Entscheidung scharf und verlangte, dass der Bundestag künftig vor jeder Genehmigung unterrichtet wird.";
    let page = format!(
        "<html lang=de><body><div class=\"page\">\
         <div class=\"more\"><ul class=\"tabs\"><li><a href=/x>Jetzt abonnieren</a></li><li><a href=/y>Teilen</a></li></ul>{}</div>\
         <div class=\"next\">{}</div></div></body></html>",
        section("intro-copy", &[first, second, first]),
        section("body-copy", &[third, third])
    );
    let cleaned = clean_str(&page);
    assert!(cleaned.text.contains(first), "{}", cleaned.text);
    assert!(cleaned.text.contains(third), "{}", cleaned.text);
    assert!(!cleaned.text.contains("abonnieren"), "{}", cleaned.text);
}

#[test]
fn closing_calls_to_follow_are_dropped_but_not_news_of_a_network() {
    let call_pl = "Obserwuj nas na Facebooku i Instagramie: @wirewatch.";
    let call_de = "Abonnieren Sie kostenlos unseren Newsletter und verpassen Sie nichts mehr.";
    let page = news_page(&[
        PARAGRAPHS[0],
        PARAGRAPHS[1],
        PARAGRAPHS[2],
        call_pl,
        call_de,
    ]);
    let cleaned = clean_str(&page);
    assert_eq!(cleaned.text, PARAGRAPHS.join("\n\n"));

    let news = "Twitter seemed a bit confused by the campaign:";
    let cleaned = clean_str(&news_page(&[
        PARAGRAPHS[0],
        PARAGRAPHS[1],
        PARAGRAPHS[2],
        news,
    ]));
    assert!(cleaned.text.ends_with(news), "{}", cleaned.text);
}

#[test]
fn a_content_name_around_one_blurb_does_not_outweigh_the_article() {
    // The article: one `<p>` of `<br>`-separated paragraphs in unnamed
    // divs; below it, the site's blurb in a block whose name has
    // "content" in it (the footer's own spelling, unknown as a footer).
    let paragraphs = [
        "Sur le stand du constructeur, la nouvelle version électrique du fourgon aménagé a attiré les visiteurs, curieux de voir le toit relevable.",
        "Juste à côté, un modèle plus petit, avec une tente de toit, un coffre modulable et une cuisine, montrait que l'on peut voyager léger.",
        "Le salon a fermé ses portes dimanche soir, et les organisateurs ont annoncé une fréquentation record pour cette édition.",
        "Les exposants, eux, comptent déjà les commandes, et plusieurs annoncent des délais de livraison de plus de six mois.",
    ];
    let article = paragraphs.join("<br><br>");
    let blurb = "Le magazine des professionnels de l'automobile, avec ses suppléments techniques et son édition carrosserie, paraît chaque mois depuis trente ans.";
    let page = format!(
        "<html lang=fr><body><div class=\"wrap\"><div class=\"col\"><div class=\"row\"><p>{article}</p></div></div></div>\
         <div class=\"bottom\"><div class=\"site_content\"><div class=\"line\"><div class=\"cell\"><div class=\"desc\">{blurb}</div></div></div></div></div>\
         </body></html>"
    );
    let cleaned = clean_str(&page);
    assert!(cleaned.text.contains(paragraphs[0]), "{}", cleaned.text);
    assert!(cleaned.text.contains(paragraphs[3]), "{}", cleaned.text);
    assert!(!cleaned.text.contains("trente ans"), "{}", cleaned.text);
}

#[test]
fn a_hidden_copy_of_the_article_does_not_unprotect_its_visible_parts() {
    // A Polish article split by a picture block whose name says gallery
    // (a weak boilerplate word): it holds most of the prose a reader sees.
    // A hidden microdata copy of the whole article, as some CMSs add,
    // must not halve that share and let the name drop the block.
    let sentences = [
        "Rada miasta przyjęła w czwartek nowy plan transportowy, który ma ograniczyć ruch samochodowy w centrum do końca dekady.",
        "Według urzędników, pierwsze zmiany obejmą dwie główne ulice, na których powstaną buspasy i szersze chodniki dla pieszych.",
        "Mieszkańcy będą mogli zgłaszać uwagi do projektu przez najbliższe sześć tygodni, także podczas spotkań w dzielnicach.",
        "Przedsiębiorcy z centrum obawiają się, że mniejszy ruch oznacza mniej klientów, i domagają się nowych parkingów na obrzeżach.",
        "Radni opozycji zapowiedzieli poprawki, a ich zdaniem plan jest zbyt kosztowny i nie uwzględnia potrzeb starszych osób.",
        "Prezydent miasta odpowiada, że koszty pokryją w większości fundusze unijne, a pierwsze prace ruszą wiosną przyszłego roku.",
        "Podobne plany przyjęło wcześniej kilka innych dużych miast w kraju, gdzie liczba pasażerów komunikacji miejskiej wzrosła.",
        "Eksperci od transportu podkreślają, że kluczowe będzie częstsze kursowanie tramwajów, zwłaszcza wieczorem i w weekendy.",
        "Ostateczne głosowanie nad planem, po uwzględnieniu uwag mieszkańców, zaplanowano na jesień, jeszcze przed budżetem miasta.",
    ];
    let paragraphs = |range: std::ops::Range<usize>| -> String {
        sentences[range]
            .iter()
            .map(|s| format!("<p>{s}</p>"))
            .collect()
    };
    let page = format!(
        "<html lang=pl><body><main><article><div class=\"story\">\
         <div class=\"textblock\">{}</div>\
         <div class=\"media js-lightbox-gallery\"><div class=\"media-img\"><img src=\"a.jpg\"></div>\
         <div class=\"media-body\">{}</div></div></div>\
         <div style=\"display:none\"><span itemprop=\"articleBody\">{}</span></div>\
         </article></main></body></html>",
        paragraphs(0..4),
        paragraphs(4..9),
        paragraphs(0..9)
    );
    let cleaned = clean_str(&page);
    for sentence in sentences {
        assert_eq!(
            cleaned.text.matches(sentence).count(),
            1,
            "{}",
            cleaned.text
        );
    }
}

#[test]
fn a_how_to_whose_page_is_rendered_by_script_gives_its_json_ld_steps() {
    // The page is drawn by a script; only JSON-LD holds the text: a
    // description and steps, one in a section, with HTML inside.
    let page = r#"<html lang=es><head><script type="application/ld+json">
{"@context":"https://schema.org","@type":"HowTo","name":"Cómo hacer un mantel redondo",
"description":"<p>Un mantel redondo se hace en una tarde, con una sábana vieja y unas tijeras, sin máquina de coser.</p>",
"step":[{"@type":"HowToStep","name":"Medir","itemListElement":{"@type":"HowToDirection","text":"<p>Mide el diámetro de la mesa, de un borde al otro, pasando por el centro.</p>"}},
{"@type":"HowToSection","name":"Cortar","itemListElement":[{"@type":"HowToStep","text":"Dobla la tela en cuatro y marca un cuarto de círculo con un cordel."},
{"@type":"HowToStep","text":"Corta por la marca y despliega la tela sobre la mesa."}]}]}
</script></head><body><div id="app"><p>Cargando la página.</p></div></body></html>"#;
    let cleaned = clean_str(page);
    assert_eq!(cleaned.method, "json_ld");
    assert_eq!(
        cleaned.text,
        "Un mantel redondo se hace en una tarde, con una sábana vieja y unas tijeras, sin máquina de coser.\n\n\
         Mide el diámetro de la mesa, de un borde al otro, pasando por el centro.\n\n\
         Dobla la tela en cuatro y marca un cuarto de círculo con un cordel.\n\n\
         Corta por la marca y despliega la tela sobre la mesa."
    );
}

#[test]
fn page_builder_widget_wrappers_keep_their_text() {
    // A Dutch article whose second half a page builder put in a text
    // "widget" (wrapped in `*-widget-wrap` and `*-widget-container`);
    // beside it, a real widget of links.
    let sentences = [
        "De gemeenteraad heeft donderdag ingestemd met een nieuw plan voor de binnenstad, waarin fietsers en voetgangers voorrang krijgen.",
        "Volgens de wethouder worden de eerste straten volgend voorjaar heringericht, met bredere stoepen en meer bomen.",
        "Winkeliers zijn verdeeld: sommigen verwachten meer klanten, anderen vrezen dat bezoekers met de auto wegblijven.",
        "De oppositie wil eerst een onderzoek naar de kosten, die volgens eerdere ramingen flink kunnen oplopen.",
        "Bewoners kunnen tot eind volgende maand reageren op het plan, ook tijdens avonden in de wijkcentra.",
    ];
    let widget = |part: &[&str]| -> String {
        let paragraphs: String = part.iter().map(|s| format!("<p>{s}</p>")).collect();
        format!(
            "<div class=\"pb-widget-wrap\"><div class=\"pb-element pb-widget pb-widget-text\">\
             <div class=\"pb-widget-container\">{paragraphs}</div></div></div>"
        )
    };
    let page = format!(
        "<html lang=nl><body><article><p>{}</p>{}{}</article>\
         <div class=\"widget widget_recent\"><ul><li><a href=/a>Ander nieuws uit de stad</a></li>\
         <li><a href=/b>Nog meer nieuws uit de regio</a></li></ul></div>\
         <div class=\"site-info\"><p>Deze website wordt gemaakt door een kleine redactie, met steun van lezers en adverteerders uit de regio.</p></div></body></html>",
        sentences[0],
        widget(&sentences[1..3]),
        widget(&sentences[3..])
    );
    let cleaned = clean_str(&page);
    for sentence in sentences {
        assert!(cleaned.text.contains(sentence), "{}", cleaned.text);
    }
    assert!(!cleaned.text.contains("Ander nieuws"), "{}", cleaned.text);
}

#[test]
fn a_list_of_teasers_is_not_the_article() {
    // An institute's page: its own text, then a list of teasers for other
    // pages, each a linked heading and a summary that is not a link, which
    // together outweigh the text.
    let intro = [
        "Die Energiewende verändert nicht nur die Technik, sondern auch die Gesellschaft, ihre Institutionen, ihre Märkte und das tägliche Leben der Menschen.",
        "Unser Forschungsbereich untersucht, wie dieser Wandel gerecht, wirksam und mit breiter Beteiligung gestaltet werden kann, in Städten wie auf dem Land.",
    ];
    let teaser = |n: usize| {
        format!(
            "<div class=\"teaser\"><h3><a href=\"/projekt/{n}\">Projekt {n}</a></h3>\
             <p>Das Projekt {n} fragt, wie Kommunen, Betriebe und Haushalte ihren Verbrauch senken, welche Hilfen sie brauchen und wer die Kosten trägt.</p></div>"
        )
    };
    let teasers: String = (1..=8).map(teaser).collect();
    // The rest of a long page: boxes of one long paragraph each.
    let boxed = "Das Institut wurde vor über zehn Jahren gegründet und arbeitet mit Partnern aus Wissenschaft und Praxis zusammen. ";
    let boxes: String = (0..4)
        .map(|_| format!("<div class=\"box\"><p>{}</p></div>", boxed.repeat(6)))
        .collect();
    let page = format!(
        "<html lang=de><body><main><div class=\"column-text\"><p>{}</p><p>{}</p></div>\
         <div class=\"teaser-list view-content\">{teasers}</div>{boxes}</main></body></html>",
        intro[0], intro[1]
    );
    let cleaned = clean_str(&page);
    assert!(cleaned.text.contains(intro[0]), "{}", cleaned.text);
    assert!(cleaned.text.contains(intro[1]), "{}", cleaned.text);
    assert!(!cleaned.text.contains("Das Projekt 3"), "{}", cleaned.text);
}

#[test]
fn an_author_box_under_the_article_is_not_text() {
    let bio = "Hallo, ich bin Anna, ich backe seit meiner Kindheit und teile hier meine liebsten Rezepte, Tipps und Geschichten aus der Küche, mit viel Liebe und ohne Schnickschnack.";
    let page = news_page(&PARAGRAPHS).replace(
        "</article>",
        &format!("<section class=\"site-content-box site-author-box\"><div class=\"author-box--content\"><p>{bio}</p></div></section></article>"),
    );
    let cleaned = clean_str(&page);
    assert!(cleaned.text.contains(PARAGRAPHS[2]), "{}", cleaned.text);
    assert!(
        !cleaned.text.contains("Hallo, ich bin Anna"),
        "{}",
        cleaned.text
    );
}

#[test]
fn a_rating_prompt_in_the_article_is_not_text() {
    // Rating widgets sit inside the article body, after its last
    // paragraph: "Was this article useful?" and its stars.
    let page = news_page(&PARAGRAPHS).replace(
        "\n</div>\n<div class=\"related-stories\">",
        "<span class=\"post-ratings\"><strong>Czy ten artykuł był przydatny?</strong> <img src=\"s.gif\"><img src=\"s.gif\"> (12 głosów, średnio 4,5 z 5)</span>\n</div>\n<div class=\"related-stories\">",
    );
    assert!(page.contains("post-ratings"));
    let cleaned = clean_str(&page);
    assert!(cleaned.text.contains(PARAGRAPHS[2]), "{}", cleaned.text);
    assert!(!cleaned.text.contains("przydatny"), "{}", cleaned.text);
}

#[test]
fn a_copyright_line_in_the_article_is_not_text() {
    let page = news_page(&PARAGRAPHS).replace(
        "\n</div>\n<div class=\"related-stories\">",
        "<div class=\"storyCopyright\"><p class=\"partCopyRightText\">© 2024 Wire Media. Tous droits réservés, reproduction interdite.</p></div>\n</div>\n<div class=\"related-stories\">",
    );
    assert!(page.contains("storyCopyright"));
    let cleaned = clean_str(&page);
    assert!(cleaned.text.contains(PARAGRAPHS[2]), "{}", cleaned.text);
    assert!(
        !cleaned.text.contains("droits réservés"),
        "{}",
        cleaned.text
    );
}

#[test]
fn an_opening_paragraph_set_apart_is_kept_when_the_description_gives_it() {
    // An Italian page: the opening paragraph sits in a hero box above the
    // body, outside any <article>; the page's description repeats it. A dek
    // (one short sentence) the description gives is a summary, not text.
    let lead = "A Milano il vecchio mercato coperto si trasforma in un centro \
        culturale: dopo tre anni di lavori, il Comune ha presentato ieri il progetto \
        definitivo, che comprende una biblioteca, due sale da concerto e un giardino \
        pensile aperto a tutti.";
    let page = |lead: &str, description: &str| {
        format!(
            r#"<html lang="it"><head><title>Il mercato rinasce</title>
<meta property="og:description" content="{description}"></head><body>
<nav><a href="/">Home</a> <a href="/cultura">Cultura</a></nav>
<div class="hero"><h1>Il mercato rinasce</h1><div class="sommario"><p>{lead}</p></div></div>
<div class="layout"><div class="col"><div class="post-content">{}</div></div>
<div class="col-side"><p><a href="/x">Un altro articolo molto letto questa settimana</a></p></div></div>
</body></html>"#,
            PARAGRAPHS.map(|p| format!("<p>{p}</p>")).join("\n")
        )
    };
    let cleaned = clean_str(&page(lead, &lead[..120]));
    assert!(
        cleaned.text.starts_with("A Milano il vecchio"),
        "{}",
        cleaned.text
    );
    assert!(cleaned.text.ends_with(PARAGRAPHS[2]), "{}", cleaned.text);
    // Without the description it is a block like any other above the body.
    let cleaned = clean_str(&page(lead, "Cultura a Milano"));
    assert!(cleaned.text.starts_with(PARAGRAPHS[0]), "{}", cleaned.text);
    let dek = "Il Comune ha presentato ieri il progetto definitivo del nuovo centro culturale.";
    let cleaned = clean_str(&page(dek, dek));
    assert!(cleaned.text.starts_with(PARAGRAPHS[0]), "{}", cleaned.text);
}

/// An older layout (issue 15): the article is a table of its own in the
/// page's content column, a row per part: the opening, a picture with its
/// caption, the rest under a subheading. Every text row is kept, the menu
/// column and the picture's row are not.
#[test]
fn an_article_in_table_rows_keeps_every_text_row() {
    let french = [
        "Le conseil municipal a voté lundi soir, à une courte majorité, la fermeture de la vieille piscine couverte jusqu'à l'automne, pour la remplacer par un bâtiment neuf.",
        "Le coût du nouveau bâtiment est estimé à douze millions d'euros, dont un tiers devrait venir de subventions de la région, selon le maire.",
        "Les clubs et les écoles iront en attendant dans les piscines des communes voisines, la ville prenant en charge les frais de transport.",
        "Les travaux doivent commencer au printemps, si les recours déposés par deux riverains sont rejetés par le tribunal administratif d'ici là.",
    ];
    let page = format!(
        r#"<html><head><title>Piscine</title></head><body><table width="760">
<tr><td colspan=2><a href="/"><img src="/logo.gif"></a></td></tr>
<tr><td width=140 valign=top><a href="/local">Local</a><br><a href="/sport">Sport</a><br><a href="/culture">Culture</a><br><a href="/meteo">Météo</a></td>
<td valign=top><table width="100%">
<tr><td><font face="Arial" size=2><b>La piscine ferme</b><br><br>{}<br><br>{}</font></td></tr>
<tr><td align=center><img src="/piscine.jpg"><br><font size=1>Photo : archives</font></td></tr>
<tr><td><font face="Arial" size=2><b>Des bus pour les écoles</b><br><br>{}<br><br>{}</font></td></tr>
</table></td></tr>
<tr><td colspan=2><font size=1>&copy; 2008 Le Courrier | <a href="/contact">Contact</a></font></td></tr>
</table></body></html>"#,
        french[0], french[1], french[2], french[3]
    );
    let cleaned = clean_str(&page);
    for paragraph in french {
        assert!(cleaned.text.contains(paragraph), "{:?}", cleaned.text);
    }
    for junk in ["Météo", "archives", "Contact"] {
        assert!(
            !cleaned.text.contains(junk),
            "{junk:?} in {:?}",
            cleaned.text
        );
    }
}

/// Issue 15: a layout table scores from every row; a short article cell is
/// not traded for the whole table (its menu column and all) because a long
/// footer of small print lifts the table above the article's row.
#[test]
fn a_long_footer_row_does_not_make_the_layout_table_the_article() {
    let german = [
        "Der Gemeinderat hat am Dienstagabend nach langer Debatte beschlossen, die Ortsdurchfahrt im Frühjahr für drei Monate zu sperren.",
        "Der Verkehr wird über die Kreisstraße umgeleitet, für Radfahrer und Fußgänger bleibt ein schmaler Durchgang frei.",
    ];
    let notice = "Alle Rechte vorbehalten, die Vervielfältigung, Verbreitung und sonstige Nutzung der Inhalte ist ohne Zustimmung des Verlags nicht gestattet. ".repeat(3);
    let menu: String = (0..12)
        .map(|i| format!("<a href=\"/r{i}\">Rubrik {i}</a><br>"))
        .collect();
    let page = format!(
        r#"<html><head><title>Ortsdurchfahrt</title></head><body><table width=770>
<tr><td colspan=2><a href="/"><img src="/logo.gif"></a></td></tr>
<tr><td width=150 valign=top>{menu}</td><td valign=top>{}<br><br>{}</td></tr>
<tr><td colspan=2><font size=1>{notice}</font></td></tr></table></body></html>"#,
        german[0], german[1]
    );
    let cleaned = clean_str(&page);
    assert!(
        cleaned.text.starts_with(&german.join("\n\n")),
        "{:?}",
        cleaned.text
    );
    assert!(!cleaned.text.contains("Rubrik"), "{:?}", cleaned.text);
}

/// Issue 15: an article set in the rows of a table keeps a short intro row
/// in bold above the text and the paragraphs in a row under an advert,
/// though neither scores much; a row of related links ends the article.
#[test]
fn short_text_rows_beside_the_article_row_are_kept() {
    let polish = [
        "Rada gminy po długiej debacie zdecydowała we wtorek o zamknięciu głównej ulicy na trzy miesiące.",
        "Według urzędu prace mają kosztować około 2,4 miliona złotych, z czego znaczną część pokryje samorząd województwa z własnego budżetu.",
        "Mieszkańcy skarżyli się latem na zebraniu przede wszystkim na planowany objazd przez wąskie uliczki osiedla domków jednorodzinnych.",
        "Ruch zostanie skierowany na drogę powiatową, dla pieszych pozostanie wąskie przejście.",
    ];
    let page = format!(
        r#"<html><head><title>Ulica zamknięta</title></head><body><table width=770><tr>
<td width=150 valign=top><a href="/a">Kraj</a><br><a href="/b">Region</a><br><a href="/c">Sport</a><br><a href="/d">Pogoda</a></td>
<td valign=top><table width="100%">
<tr><td><b>{}</b></td></tr>
<tr><td><img src="/ulica.jpg"></td></tr>
<tr><td>{}<br><br>{}</td></tr>
<tr><td><a href="https://ads.example/c"><img src="/reklama.gif"></a><br>Reklama</td></tr>
<tr><td>{}</td></tr>
<tr><td><a href="/r1">Inne wiadomości z gminy i okolic</a><br><a href="/r2">Zobacz także: remonty dróg w powiecie</a></td></tr>
<tr><td>Redakcja nie odpowiada za treść ogłoszeń, a wszystkie prawa do tekstów są zastrzeżone.</td></tr>
</table></td></tr></table></body></html>"#,
        polish[0], polish[1], polish[2], polish[3]
    );
    let cleaned = clean_str(&page);
    assert_eq!(cleaned.text, polish.join("\n\n"), "{:?}", cleaned.text);
}

/// Issue 15: a short item of one paragraph in an old table layout (no `<p>`,
/// no `<br>`) is the text cell's alone: the menu column beside it stays out.
#[test]
fn a_one_paragraph_item_in_a_table_cell_leaves_the_menu_out() {
    let french = "Le conseil municipal a adopté mardi soir, après un long débat, la fermeture \
        complète de la rue principale pendant trois mois au printemps prochain. Les travaux \
        devraient coûter environ 2,4 millions d'euros selon la mairie, dont une grande partie \
        sera prise en charge par la région.";
    let menu: String = (0..12)
        .map(|i| format!("<a href=\"/r{i}\">Rubrique {i}</a><br>"))
        .collect();
    let page = format!(
        r#"<html><head><title>Rue fermée</title></head><body><table width=770>
<tr><td colspan=3><a href="/"><img src="/logo.gif"></a></td></tr>
<tr><td width=150 valign=top>{menu}</td><td valign=top>{french}</td>
<td width=160><a href="https://ads.example/c"><img src="/pub.gif"></a><br>Publicité</td></tr>
</table></body></html>"#
    );
    let cleaned = clean_str(&page);
    assert_eq!(
        cleaned
            .text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        french.split_whitespace().collect::<Vec<_>>().join(" "),
        "{:?}",
        cleaned.text
    );
}

/// Issue 15: an article cut into sibling sections by subheadings, or into
/// two plain `<div>`s by a picture, keeps the short parts after the
/// container; a box of links after them, reached only past a block that
/// is not kept, stays out.
#[test]
fn short_sections_after_a_subheading_or_a_picture_are_kept() {
    let german = [
        "Der Gemeinderat hat am Dienstagabend nach langer Debatte beschlossen, die Ortsdurchfahrt im kommenden Frühjahr für drei Monate vollständig zu sperren.",
        "Die Bauarbeiten sollen nach Angaben der Verwaltung rund 2,4 Millionen Euro kosten, wovon das Land einen großen Teil übernehmen wird.",
        "Anwohner hatten sich in einer Bürgerversammlung im Sommer vor allem über die geplante Umleitung durch die engen Wohnstraßen beschwert.",
        "Bürgermeister Klaus Weber versprach, die Geschäfte im Ortskern erreichbar zu halten.",
        "Der Verkehr wird über die Kreisstraße umgeleitet.",
    ];
    let [p1, p2, p3, p4, p5] = german;
    let sections = format!(
        "<section><p>{p1}</p><p>{p2}</p><p>{p3}</p></section><section><h2>Die Kosten</h2>\
         <p>{p4}</p></section><section><h2>Wie es weitergeht</h2><p>{p5}</p></section>"
    );
    // After a picture, a part of a paragraph's length (a one-line part
    // there reads like a writer's tagline).
    let last = "Der Verkehr wird über die Kreisstraße umgeleitet, für Radfahrer und Fußgänger bleibt ein schmaler Durchgang frei.";
    let picture = format!(
        "<div><p>{p1}</p><p>{p2}</p><p>{p3}</p><p>{p4}</p></div><figure><img src=\"/a.jpg\">\
         <figcaption>Foto: dpa</figcaption></figure><div><p>{last}</p></div>"
    );
    for (body, expected) in [
        (
            sections,
            format!("{p1}\n\n{p2}\n\n{p3}\n\nDie Kosten\n\n{p4}\n\nWie es weitergeht\n\n{p5}"),
        ),
        (picture, format!("{p1}\n\n{p2}\n\n{p3}\n\n{p4}\n\n{last}")),
    ] {
        let page = format!(
            "<html><head><title>Ortsdurchfahrt gesperrt</title></head><body><nav><a href=\"/\">Start</a></nav>\
             <main><article><h1>Ortsdurchfahrt gesperrt</h1>{body}\
             <div><a href=\"/x\">Alles zum Straßenbau in der Region und im Kreis</a></div>\
             <div><p>Gefällt Ihnen der Artikel? Dann empfehlen Sie ihn Ihren Freunden weiter.</p></div>\
             </article></main></body></html>"
        );
        let cleaned = clean_str(&page);
        assert_eq!(cleaned.text, expected, "{body}");
    }
}

/// Issue 15: a list of plain points between two parts of the article, both
/// kept, is more of the article.
#[test]
fn a_list_between_two_parts_of_the_article_is_kept() {
    let french = [
        "Le conseil municipal a adopté mardi soir, après un long débat, la fermeture complète de la rue principale pendant trois mois au printemps prochain.",
        "Les travaux devraient coûter environ 2,4 millions d'euros selon la mairie, dont une grande partie sera prise en charge par la région.",
        "Les riverains s'étaient plaints lors d'une réunion publique cet été de la déviation prévue par les petites rues résidentielles du quartier.",
        "La circulation sera déviée par la route départementale, un passage étroit restera ouvert aux cyclistes et aux piétons.",
    ];
    let points = [
        "une navette pour les aînés",
        "des horaires d'ouverture plus longs",
    ];
    let page = format!(
        "<html><head><title>Rue fermée</title></head><body><div class=\"menu\"><a href=\"/\">Accueil</a></div>\
         <div class=\"story\"><h1>Rue fermée</h1><div class=\"text\"><p>{}</p><p>{}</p><p>{}</p></div>\
         <ul><li>{}</li><li>{}</li></ul><div class=\"text-end\"><p>{}</p></div></div>\
         <ul class=\"links\"><li><a href=\"/a\">Autres nouvelles du quartier</a></li></ul></body></html>",
        french[0], french[1], french[2], points[0], points[1], french[3]
    );
    let cleaned = clean_str(&page);
    let expected = format!(
        "{}\n\n{}\n\n{}\n\n{}\n\n{}\n\n{}",
        french[0], french[1], french[2], points[0], points[1], french[3]
    );
    assert_eq!(cleaned.text, expected);
}

/// Issue 15: a column of teasers after the article's column, both plain
/// `<div>`s, is not a part of the article after it: each teaser is led by
/// its headline's link.
#[test]
fn a_teaser_column_after_the_article_column_stays_out() {
    let polish = [
        "Rada gminy po długiej debacie zdecydowała we wtorek wieczorem o całkowitym zamknięciu głównej ulicy na trzy miesiące wiosną przyszłego roku.",
        "Według urzędu prace mają kosztować około 2,4 miliona złotych, z czego znaczną część pokryje samorząd województwa z własnego budżetu.",
        "Ruch zostanie skierowany na drogę powiatową, dla rowerzystów i pieszych pozostanie wąskie przejście wzdłuż chodnika.",
    ];
    let teasers: String = (0..3)
        .map(|i| {
            format!(
                "<div><div><a href=\"/t{i}\">Inna wiadomość numer {i}</a></div>\
                 <p>Krótki wstęp do innej wiadomości z regionu zachęca czytelnika do przeczytania całego tekstu na stronie.</p></div>"
            )
        })
        .collect();
    let page = format!(
        "<html><head><title>Ulica zamknięta</title></head><body><div id=\"left\"><a href=\"/a\">Kraj</a> \
         <a href=\"/b\">Region</a></div><div id=\"center\"><div>{}<br><br>{}<br><br>{}</div></div>\
         <div id=\"right\">{teasers}</div></body></html>",
        polish[0], polish[1], polish[2]
    );
    let cleaned = clean_str(&page);
    assert_eq!(cleaned.text, polish.join("\n\n"));
}

/// Issue 15: readers' comments set as rows after an article's rows, under a
/// bold head, are not parts of the article for the rows' prose rule.
#[test]
fn comment_rows_under_a_bold_head_after_the_article_rows_stay_out() {
    let german = [
        "Der Gemeinderat hat am Dienstagabend nach langer Debatte beschlossen, die Ortsdurchfahrt im kommenden Frühjahr für drei Monate vollständig zu sperren.",
        "Die Bauarbeiten sollen nach Angaben der Verwaltung rund 2,4 Millionen Euro kosten, wovon das Land einen großen Teil übernehmen wird.",
        "Der Verkehr wird über die Kreisstraße umgeleitet, für Radfahrer und Fußgänger bleibt ein schmaler Durchgang frei.",
    ];
    let comments: String = (1..4)
        .map(|i| {
            format!(
                "<tr><td>Leser{i} schrieb: Das ist doch wieder typisch, immer werden die Anwohner \
                 vergessen und keiner fragt uns vorher.</td></tr>"
            )
        })
        .collect();
    let page = format!(
        r#"<html><head><title>Ortsdurchfahrt</title></head><body><table width=770><tr>
<td width=150 valign=top><a href="/a">Lokales</a><br><a href="/b">Region</a><br><a href="/c">Sport</a><br><a href="/d">Wetter</a></td>
<td valign=top><table width="100%">
<tr><td>{}<br><br>{}</td></tr>
<tr><td><img src="/bild.jpg"></td></tr>
<tr><td>{}</td></tr>
<tr><td><b>Leserkommentare (3)</b></td></tr>
{comments}
</table></td></tr></table></body></html>"#,
        german[0], german[1], german[2]
    );
    let cleaned = clean_str(&page);
    assert_eq!(cleaned.text, german.join("\n\n"), "{:?}", cleaned.text);
}

/// Issue 15: teasers in the article's own cell (a headline's link over a
/// line of blurb, one after another) go; a list of items each over a link
/// to its shop (an address, or the same words under every item) is the
/// article's and stays.
#[test]
fn teasers_in_the_article_cell_go_and_a_list_of_deals_stays() {
    let french = [
        "Le conseil municipal a adopté mardi soir, après un long débat, la fermeture complète de la rue principale pendant trois mois au printemps prochain.",
        "Les travaux devraient coûter environ 2,4 millions d'euros selon la mairie, dont une grande partie sera prise en charge par la région.",
        "La circulation sera déviée par la route départementale, un passage étroit restera ouvert aux cyclistes et aux piétons.",
    ];
    let text = french.join("<br><br>");
    let teasers: String = (1..5)
        .map(|i| {
            format!(
                "<a href=\"/t{i}\"><b>Autre titre du jour numéro {i}</b></a><br>\
                 Un court chapeau qui présente l'autre nouvelle du jour<br>"
            )
        })
        .collect();
    let page = format!(
        r#"<html><head><title>Rue fermée</title></head><body><table><tr>
<td width=140><a href="/a">Local</a><br><a href="/b">Région</a><br><a href="/c">Sport</a></td>
<td>{teasers}<br>{text}</td></tr></table></body></html>"#
    );
    let cleaned = clean_str(&page);
    assert_eq!(cleaned.text, french.join("\n\n"), "{:?}", cleaned.text);
    // The last teaser without its blurb: a short first paragraph after it
    // is the text's.
    let short = "Le maire a annoncé mardi soir, devant le conseil municipal réuni en séance, la fermeture de la rue principale.";
    let page = format!(
        r#"<html><head><title>Rue fermée</title></head><body><table><tr>
<td width=140><a href="/a">Local</a><br><a href="/b">Région</a><br><a href="/c">Sport</a></td>
<td>{teasers}<a href="/t9"><b>Encore un autre titre du jour</b></a><br>{short}<br><br>{text}</td></tr></table></body></html>"#
    );
    let cleaned = clean_str(&page);
    assert!(cleaned.text.starts_with(short), "{:?}", cleaned.text);

    for link in ["https://shop.example/a{i}", "Voir l'offre"] {
        let deals: String = (1..5)
            .map(|i| {
                let link = link.replace("{i}", &i.to_string());
                format!("{i}) Coffret de films numéro {i} en édition limitée<br><a href=\"/d{i}\">{link}</a><br><br>")
            })
            .collect();
        let page = format!(
            r#"<html><head><title>Idées cadeaux</title></head><body><table><tr>
<td width=140><a href="/a">Local</a><br><a href="/b">Région</a><br><a href="/c">Sport</a></td>
<td>{text}<br><br>{deals}</td></tr></table></body></html>"#
        );
        let cleaned = clean_str(&page);
        for i in 1..5 {
            assert!(
                cleaned.text.contains(&format!("{i}) Coffret de films")),
                "{link}: {:?}",
                cleaned.text
            );
        }
    }
}

/// Issue 15: a notice of small print in the row under an article's rows
/// ("© 2008 ... all rights reserved.") is no part of it, prose as it reads.
#[test]
fn a_copyright_row_under_the_article_rows_stays_out() {
    let english = [
        "The city council voted on Tuesday night, after a long debate, to close Main Street completely for three months next spring.",
        "The work is expected to cost about $2.4 million, according to the city, most of which will be covered by a state grant.",
    ];
    let page = format!(
        r#"<html><head><title>Main Street</title></head><body><table width=600>
<tr><td><a href="/">Home</a> | <a href="/news">News</a> | <a href="/sports">Sports</a> | <a href="/weather">Weather</a></td></tr>
<tr><td>{}<br><br>{}</td></tr>
<tr><td>&copy; 2008 The Daily Courier. All rights reserved, and this material may not be republished without permission.</td></tr>
</table></body></html>"#,
        english[0], english[1]
    );
    let cleaned = clean_str(&page);
    assert_eq!(cleaned.text, english.join("\n\n"), "{:?}", cleaned.text);
}

/// Issue 15: the rules for old table layouts stay linear on hostile input:
/// a cell of text followed by 100,000 lines of a headline's link and a
/// blurb (the teaser run), an article over 50,000 table rows of prose (the
/// rows' prose rule), and 50,000 sibling sections after the container (the
/// parts after it and the lists between them).
#[test]
fn layout_rules_stay_linear_on_huge_input() {
    let lines = 100_000;
    let mut teasers = String::with_capacity(lines * 90);
    for i in 0..lines {
        teasers.push_str(&format!(
            "<a href=\"/t{i}\">Headline number {i} of the day</a><br>A blurb for it<br>"
        ));
    }
    let rows: String = (0..50_000)
        .map(|i| format!("<tr><td>{} Row {i}.</td></tr>", PARAGRAPHS[1]))
        .collect();
    let sections: String = (0..50_000)
        .map(|i| {
            format!(
                "<section><h2>Part {i}</h2><p>{} Part {i}.</p></section>",
                PARAGRAPHS[2]
            )
        })
        .collect();
    for page in [
        format!(
            "<html><body><table><tr><td>{}<br><br>{}<br><br>{teasers}</td></tr></table></body></html>",
            PARAGRAPHS[0], PARAGRAPHS[1]
        ),
        format!(
            "<html><body><table><tr><td>{}<br><br>{}</td></tr>{rows}</table></body></html>",
            PARAGRAPHS[0], PARAGRAPHS[2]
        ),
        format!(
            "<html><body><article><section><p>{}</p><p>{}</p></section><ul><li>a</li></ul>{sections}</article></body></html>",
            PARAGRAPHS[0], PARAGRAPHS[1]
        ),
    ] {
        let started = std::time::Instant::now();
        let cleaned = clean_str(&page);
        assert!(cleaned.text.contains(PARAGRAPHS[0]), "{}", &cleaned.text[..200]);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }
}

/// Issue 15: a short command in a code block of its own (a `<pre>` in a
/// wrapper, as code highlighters write it) is text of the article, not a
/// block too short to keep.
#[test]
fn a_short_code_block_in_a_wrapper_is_kept() {
    let german = [
        "Die Bibliothek lässt sich mit dem Paketmanager der Sprache installieren, eine weitere Einrichtung ist nicht nötig.",
        "Danach steht das Kommandozeilenwerkzeug zur Verfügung, mit dem sich die ersten Aufgaben an das Netzwerk schicken lassen.",
    ];
    let page = format!(
        "<html><head><title>Anleitung</title></head><body><article><div class=\"text\"><p>{}</p>\
         <div class=\"highlight\"><pre>pip install paket</pre></div><p>{}</p><p>{}</p></div></article></body></html>",
        german[0], german[1], german[0]
    );
    let cleaned = clean_str(&page);
    assert!(
        cleaned.text.contains("\n\npip install paket\n\n"),
        "{:?}",
        cleaned.text
    );
}
