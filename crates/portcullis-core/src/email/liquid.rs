//! What Auth0's Liquid templates need from our minijinja templates.
//!
//! Auth0's email templates are Liquid; ours are rendered by minijinja. Their common subset is
//! the same text: `{{ url }}`, `{{ user.email }}`, `{{ application.name }}`,
//! `{% if user.user_metadata.lang == 'fr' %}...{% else %}...{% endif %}`, `{% for %}`, and
//! filters without arguments. minijinja is kept (rather than a Liquid engine) because it
//! escapes every variable of the HTML part and bounds each render with a fuel budget, and
//! Liquid engines do neither. What differs is spelled out here: Liquid's filter names get
//! aliases, and a template that uses a tag only Liquid has is refused with the Jinja spelling
//! of it, rather than with the parser's error alone.

use minijinja::{filters, Environment};

/// Liquid's names of filters minijinja has under another name.
pub(super) fn add_filter_aliases(env: &mut Environment<'static>) {
    env.add_filter("upcase", filters::upper);
    env.add_filter("downcase", filters::lower);
    env.add_filter("strip", filters::trim);
    env.add_filter("size", filters::length);
}

/// Liquid's tags that minijinja does not have, and what to write instead.
const LIQUID_TAGS: &[(&str, &str)] = &[
    ("elsif", "{% elif ... %}"),
    ("unless", "{% if not ... %}"),
    ("endunless", "{% endif %}"),
    ("assign", "{% set name = ... %}"),
    ("capture", "{% set name %}...{% endset %}"),
    ("comment", "{# ... #}"),
    ("case", "{% if %} and {% elif %}"),
];

/// How to fix `source` when it uses Liquid's own syntax: its first tag that only Liquid has,
/// or a filter given its arguments after a colon (`| default: 'x'`, in Jinja
/// `| default('x')`).
pub(super) fn hint(source: &str) -> Option<String> {
    let tags = source.split("{%").skip(1).filter_map(|rest| {
        let name = rest
            .trim_start_matches('-')
            .trim_start()
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .next()?;
        LIQUID_TAGS.iter().find(|(tag, _)| *tag == name)
    });
    if let Some((tag, instead)) = tags.into_iter().next() {
        return Some(format!(
            "{{% {tag} %}} is Liquid; these templates are Jinja (minijinja): write {instead}"
        ));
    }
    let colon_argument = source.split("{{").skip(1).any(|rest| {
        let output = rest.split("}}").next().unwrap_or_default();
        output.split('|').skip(1).any(|filter| {
            let filter = filter.trim_start();
            let name_end = filter
                .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .unwrap_or(filter.len());
            name_end > 0 && filter[name_end..].trim_start().starts_with(':')
        })
    });
    colon_argument.then(|| {
        "filters take their arguments in parentheses, as in Jinja: | default('x'), not | default: 'x'"
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::hint;

    #[test]
    fn liquid_only_syntax_gets_its_jinja_spelling() {
        let elsif = hint("{% if a %}1{% elsif b %}2{% endif %}").unwrap();
        assert!(elsif.contains("{% elif ... %}"), "{elsif}");
        assert!(hint("{%- unless a -%}x{% endunless %}")
            .unwrap()
            .contains("if not"));
        assert!(hint("{% assign x = 1 %}").unwrap().contains("set"));
        assert!(hint("{{ user.name | default: 'friend' }}")
            .unwrap()
            .contains("default('x')"));
        for jinja in [
            "{% if a %}1{% elif b %}2{% endif %}",
            "{{ user.name | default('friend') }} {{ user.email | upper }}",
            "<p style=\"color: red\">{{ url }}</p>",
        ] {
            assert_eq!(hint(jinja), None, "{jinja}");
        }
    }
}
