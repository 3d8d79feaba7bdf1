//! robots.txt (RFC 9309): the group for our product token, else `*`; the
//! longest matching rule wins and `Allow` wins a tie; `*` matches any run of
//! characters and a trailing `$` anchors the end. Pure: text in, rules out.

/// The rules that apply to us on one origin.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Robots {
    /// `(allow, pattern)` in file order.
    rules: Vec<(bool, String)>,
}

impl Robots {
    /// No rules: everything allowed (a missing robots.txt).
    pub fn allow_all() -> Robots {
        Robots::default()
    }

    /// Reads `text` for the product token `agent` (e.g. `wirewatch`).
    pub fn parse(text: &str, agent: &str) -> Robots {
        let agent = agent.to_ascii_lowercase();
        let mut ours = Vec::new();
        let mut anyone = Vec::new();
        let mut named_us = false;
        // The agents of the group being read, and whether its rules started
        // (a user-agent line after rules opens a new group).
        let mut group_agents: Vec<String> = Vec::new();
        let mut in_rules = false;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default().trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim();
            match key.as_str() {
                "user-agent" => {
                    if in_rules {
                        group_agents.clear();
                        in_rules = false;
                    }
                    group_agents.push(value.to_ascii_lowercase());
                }
                "allow" | "disallow" => {
                    in_rules = true;
                    // An empty Disallow allows everything: no rule.
                    if value.is_empty() {
                        continue;
                    }
                    let rule = (key == "allow", value.to_owned());
                    if group_agents
                        .iter()
                        .any(|name| !agent.is_empty() && *name == agent)
                    {
                        named_us = true;
                        ours.push(rule.clone());
                    }
                    if group_agents.iter().any(|name| name == "*") {
                        anyone.push(rule);
                    }
                }
                _ => {}
            }
        }
        // A group naming us, even an empty one, replaces the `*` group.
        let named_empty = text.lines().any(|line| {
            line.split('#')
                .next()
                .unwrap_or_default()
                .split_once(':')
                .is_some_and(|(key, value)| {
                    key.trim().eq_ignore_ascii_case("user-agent")
                        && value.trim().eq_ignore_ascii_case(&agent)
                })
        });
        Robots {
            rules: if named_us || named_empty {
                ours
            } else {
                anyone
            },
        }
    }

    /// Whether `path` (path and query) may be fetched.
    pub fn allows(&self, path: &str) -> bool {
        let mut best: Option<(usize, bool)> = None;
        for (allow, pattern) in &self.rules {
            if matches(pattern, path) {
                let length = pattern.len();
                best = match best {
                    Some((best_length, best_allow))
                        if best_length > length || (best_length == length && best_allow) =>
                    {
                        Some((best_length, best_allow))
                    }
                    _ => Some((length, *allow)),
                };
            }
        }
        !matches!(best, Some((_, false)))
    }
}

/// Prefix match with `*` wildcards and an optional trailing `$`. Greedy with
/// one backtrack point, so linear in practice and never exponential.
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(stripped) => (stripped, true),
        None => (pattern, false),
    };
    let pattern = pattern.as_bytes();
    let text = path.as_bytes();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p == pattern.len() {
            if !anchored || t == text.len() {
                return true;
            }
        } else if pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
            continue;
        } else if t < text.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
            continue;
        }
        match star {
            Some((star_p, star_t)) if star_t < text.len() => {
                star = Some((star_p, star_t + 1));
                p = star_p + 1;
                t = star_t + 1;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_group_replaces_the_wildcard_group() {
        let text = "User-agent: *\nDisallow: /\n\nUser-agent: wirewatch\nDisallow: /private/\n";
        let robots = Robots::parse(text, "wirewatch");
        assert!(robots.allows("/news/1"));
        assert!(!robots.allows("/private/x"));
        let other = Robots::parse(text, "otherbot");
        assert!(!other.allows("/news/1"));
    }

    #[test]
    fn longest_match_wins_and_allow_wins_ties() {
        let text =
            "User-agent: *\nDisallow: /news/\nAllow: /news/public\nDisallow: /a\nAllow: /a\n";
        let robots = Robots::parse(text, "wirewatch");
        assert!(!robots.allows("/news/secret"));
        assert!(robots.allows("/news/public/1"));
        assert!(robots.allows("/a"));
        assert!(robots.allows("/other"));
    }

    #[test]
    fn wildcards_and_end_anchor() {
        let text = "User-agent: *\nDisallow: /*.pdf$\nDisallow: /*print=\n";
        let robots = Robots::parse(text, "wirewatch");
        assert!(!robots.allows("/files/report.pdf"));
        assert!(robots.allows("/files/report.pdf.html"));
        assert!(!robots.allows("/story?id=1&print=1"));
        assert!(!robots.allows("/story?print=1"));
        assert!(robots.allows("/story?id=1"));
    }

    #[test]
    fn empty_disallow_and_comments_allow_everything() {
        let robots = Robots::parse("# hi\nUser-agent: *\nDisallow:\n", "wirewatch");
        assert!(robots.allows("/anything"));
        assert!(Robots::allow_all().allows("/"));
    }
}
