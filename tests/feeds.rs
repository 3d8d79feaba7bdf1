//! `wirewatch feeds`: OPML import and export through real files, discovery
//! and add against a real HTTP server on 127.0.0.1.

use crate::support::http::{Route, TestServer};
use crate::support::{text, wirewatch, Scratch};

const RSS: &str = "application/rss+xml";

fn rss(title: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{title}</title>\
         <item><title>one</title><link>https://example.org/1</link></item>\
         <item><title>two</title><link>https://example.org/2</link></item>\
         </channel></rss>"
    )
}

const OPML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Exported from a reader</title></head>
  <body>
    <outline text="Defence" title="Defence">
      <outline type="rss" text="Arms &amp; Security" xmlUrl="https://defence.example/rss.xml" htmlUrl="https://defence.example/"/>
    </outline>
    <outline type="rss" text="Sanctions desk" xmlUrl="https://sanctions.example/feed" category="compliance"/>
    <outline type="rss" text="Not a web feed" xmlUrl="ftp://files.example/feed"/>
  </body>
</opml>"#;

fn config_with(scratch: &Scratch, feeds: &str) -> std::path::PathBuf {
    scratch.write(
        "wirewatch.toml",
        &format!("feeds = [\"{feeds}\"]\nstate_dir = \"state\"\n"),
    )
}

#[test]
fn opml_import_appends_new_feeds_once_and_the_result_validates() {
    let scratch = Scratch::new("feeds-import");
    let opml = scratch.write("reader.opml", OPML);
    let feeds = scratch.write(
        "feeds.toml",
        "# my feeds\n[[feed]]\nurl = \"https://sanctions.example/feed\"\ntitle = \"Mine\"\n",
    );
    let args = [
        "feeds",
        "import",
        opml.to_str().unwrap(),
        "--into",
        feeds.to_str().unwrap(),
    ];
    let first = wirewatch(&args);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let stderr = text(&first.stderr);
    assert!(
        stderr.contains("1 feeds imported, 1 already listed, 1 outlines left out"),
        "{stderr}"
    );
    assert!(
        stderr.contains("outline 4 (\"Not a web feed\"): xmlUrl \"ftp://files.example/feed\""),
        "{stderr}"
    );
    let written = std::fs::read_to_string(&feeds).unwrap();
    assert!(written.starts_with("# my feeds\n"), "{written}");
    assert!(
        written.contains("title = \"Arms & Security\"\ntags = [\"Defence\"]"),
        "{written}"
    );
    assert_eq!(written.matches("[[feed]]").count(), 2, "{written}");

    let again = wirewatch(&args);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(text(&again.stderr).contains("0 feeds imported, 2 already listed"));
    assert_eq!(std::fs::read_to_string(&feeds).unwrap(), written);

    let config = config_with(&scratch, "feeds.toml");
    let check = wirewatch(&["check", "--config", config.to_str().unwrap()]);
    assert!(check.status.success(), "{}", text(&check.stderr));
}

#[test]
fn opml_export_lists_every_feed_with_its_first_tag_as_folder() {
    let scratch = Scratch::new("feeds-export");
    scratch.write(
        "feeds.toml",
        "[[feed]]\nurl = \"https://a.example/rss\"\ntitle = \"A <wire>\"\ntags = [\"wires\", \"en\"]\n\n\
         [[feed]]\nurl = \"https://b.example/atom.xml\"\n",
    );
    let config = config_with(&scratch, "feeds.toml");
    let output = wirewatch(&["feeds", "export", "--config", config.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let opml = text(&output.stdout);
    assert!(opml.starts_with("<?xml"), "{opml}");
    assert!(
        opml.contains("<outline text=\"wires\" title=\"wires\">"),
        "{opml}"
    );
    assert!(
        opml.contains(
            "title=\"A &lt;wire&gt;\" xmlUrl=\"https://a.example/rss\" category=\"en\"/>"
        ),
        "{opml}"
    );
    assert!(
        opml.contains("xmlUrl=\"https://b.example/atom.xml\""),
        "{opml}"
    );
    // What we write, we read back: import it into an empty file.
    let exported = scratch.write("exported.opml", &opml);
    let into = scratch.path.join("round-trip.toml");
    let import = wirewatch(&[
        "feeds",
        "import",
        exported.to_str().unwrap(),
        "--into",
        into.to_str().unwrap(),
    ]);
    assert!(import.status.success(), "{}", text(&import.stderr));
    let round_trip = std::fs::read_to_string(&into).unwrap();
    assert!(
        round_trip.contains("tags = [\"wires\", \"en\"]"),
        "{round_trip}"
    );
    assert_eq!(round_trip.matches("[[feed]]").count(), 2);
}

#[test]
fn discover_checks_announced_feeds_and_falls_back_to_the_usual_paths() {
    let server = TestServer::start();
    server.route(
        "/news/story.html",
        Route::ok(
            "text/html",
            "<html><head><title>Story</title>\
             <link rel=\"alternate\" type=\"application/rss+xml\" title=\"World\" href=\"/world.xml\">\
             <link rel=\"alternate\" type=\"application/atom+xml\" href=\"/gone.xml\">\
             </head><body><p>text</p></body></html>",
        ),
    );
    server.route("/world.xml", Route::ok(RSS, rss("World news")));
    let output = wirewatch(&["feeds", "discover", &server.url("/news/story.html")]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let found = text(&output.stdout);
    assert!(
        found.contains(&format!(
            "# 2 entries, announced by the page\n[[feed]]\nurl = \"{}\"\ntitle = \"World news\"",
            server.url("/world.xml")
        )),
        "{found}"
    );
    assert_eq!(found.matches("[[feed]]").count(), 1, "{found}");
    assert!(
        text(&output.stderr).contains("gone.xml"),
        "{}",
        text(&output.stderr)
    );

    // Nothing announced: the usual paths are tried, and only a feed counts.
    let bare = TestServer::start();
    bare.route(
        "/",
        Route::ok("text/html", "<html><body>home</body></html>"),
    );
    bare.route("/feed", Route::ok("text/html", "<html>not a feed</html>"));
    bare.route("/rss.xml", Route::ok(RSS, rss("Bare site")));
    let output = wirewatch(&["feeds", "discover", &bare.url("/")]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let found = text(&output.stdout);
    assert!(found.contains("at a usual path (not announced)"), "{found}");
    assert!(found.contains(&bare.url("/rss.xml")), "{found}");
    assert_eq!(found.matches("[[feed]]").count(), 1, "{found}");
    assert!(bare
        .requests()
        .iter()
        .any(|request| request.path == "/atom.xml"));

    // A site with no feed anywhere: a clear error, exit status 1.
    let none = TestServer::start();
    none.route("/", Route::ok("text/html", "<p>no feeds</p>"));
    let output = wirewatch(&["feeds", "discover", &none.url("/")]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("no feed announced, and none at the usual paths"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn add_appends_the_discovered_feed_once() {
    let server = TestServer::start();
    server.route(
        "/",
        Route::ok(
            "text/html",
            "<link rel=\"alternate\" type=\"application/rss+xml\" href=\"/feed.xml\">",
        ),
    );
    server.route("/feed.xml", Route::ok(RSS, rss("Desk")));
    let scratch = Scratch::new("feeds-add");
    let feeds = scratch.path.join("feeds.toml");
    for _ in 0..2 {
        let output = wirewatch(&[
            "feeds",
            "add",
            &server.url("/"),
            "--into",
            feeds.to_str().unwrap(),
        ]);
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    let written = std::fs::read_to_string(&feeds).unwrap();
    assert_eq!(written.matches("[[feed]]").count(), 1, "{written}");
    assert!(written.contains(&format!("url = \"{}\"", server.url("/feed.xml"))));
    let config = config_with(&scratch, "feeds.toml");
    let check = wirewatch(&["check", "--config", config.to_str().unwrap()]);
    assert!(check.status.success(), "{}", text(&check.stderr));
}
