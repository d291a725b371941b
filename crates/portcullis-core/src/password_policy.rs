//! The database connection's password policy: which new passwords a user may choose. Auth0's
//! strength levels (`passwordPolicy`), the minimum length that replaces a level's, and the
//! password options (dictionary, personal information); the history check needs the store
//! and lives with the connection's operations (`admin::connection`).
//!
//! The levels, as Auth0 defines them:
//!
//! | level | length | characters |
//! |---|---|---|
//! | `none` | 1 | any |
//! | `low` | 6 | any |
//! | `fair` | 8 | a lower-case letter, an upper-case letter and a digit |
//! | `good` | 8 | three of: lower-case, upper-case, digit, special character |
//! | `excellent` | 10 | as `good`, and no more than 2 identical characters in a row |

use portcullis_store::DatabaseConnection;
use portcullis_types::PasswordStrength;
use serde_json::{Map, Value};
use zxcvbn::feedback::Warning;

/// The longest password accepted, in bytes: longer ones only cost hashing time.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The bounds of `password_complexity_options.min_length`.
pub const MIN_LENGTH_RANGE: std::ops::RangeInclusive<u32> = 1..=128;

/// The refusal of a password found in the dictionary or among common passwords.
pub const TOO_COMMON: &str = "Password is too common.";

/// The refusal of a password that contains the user's name or email address.
pub const HAS_USER_INFO: &str = "Password contains user information.";

/// Why a password was refused: a sentence for the user, in the words Auth0's errors use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Whom a password is for: what the personal-information check compares it with.
#[derive(Clone, Copy, Debug, Default)]
pub struct Owner<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub nickname: &'a str,
    /// `name`, `first` and `last` of the user's metadata count too, as in Auth0.
    pub user_metadata: Option<&'a Map<String, Value>>,
}

/// The length a level asks for.
fn level_length(level: PasswordStrength) -> u32 {
    match level {
        PasswordStrength::None => 1,
        PasswordStrength::Low => 6,
        PasswordStrength::Fair | PasswordStrength::Good => 8,
        PasswordStrength::Excellent => 10,
    }
}

/// The shortest password the connection accepts, in characters.
pub fn min_length(connection: &DatabaseConnection) -> u32 {
    connection
        .min_length
        .unwrap_or_else(|| level_length(connection.password_policy))
}

/// The four kinds of characters the levels count.
fn kinds(password: &str) -> [bool; 4] {
    let has = |test: fn(char) -> bool| password.chars().any(test);
    [
        has(char::is_lowercase),
        has(char::is_uppercase),
        has(|c| c.is_ascii_digit()),
        has(|c| !c.is_alphanumeric()),
    ]
}

/// Whether some character repeats more than twice in a row (`111`).
fn has_triple(password: &str) -> bool {
    let chars: Vec<char> = password.chars().collect();
    chars.windows(3).any(|w| w[0] == w[1] && w[1] == w[2])
}

/// Whether zxcvbn's frequency lists know the whole password as a common one.
fn is_common(password: &str) -> bool {
    let estimate = zxcvbn::zxcvbn(password, &[]);
    matches!(
        estimate.feedback().and_then(|feedback| feedback.warning()),
        Some(
            Warning::ThisIsATop10Password
                | Warning::ThisIsATop100Password
                | Warning::ThisIsACommonPassword
        )
    )
}

/// The parts of the owner's identity a password must not contain (lower-cased, at least 3
/// characters: shorter ones would refuse too many passwords for no gain).
fn personal_parts(owner: &Owner<'_>) -> Vec<String> {
    let mut parts: Vec<&str> = vec![owner.email.split('@').next().unwrap_or_default()];
    parts.extend(owner.name.split_whitespace());
    parts.push(owner.nickname);
    if let Some(metadata) = owner.user_metadata {
        for key in ["name", "first", "last"] {
            if let Some(Value::String(value)) = metadata.get(key) {
                parts.extend(value.split_whitespace());
            }
        }
    }
    parts
        .into_iter()
        .map(str::to_lowercase)
        .filter(|part| part.chars().count() >= 3)
        .collect()
}

fn refused(message: impl Into<String>) -> Result<(), Refused> {
    Err(Refused(message.into()))
}

/// Checks `password` against the connection's policy for `owner` (all but the history).
pub fn check(
    connection: &DatabaseConnection,
    password: &str,
    owner: &Owner<'_>,
) -> Result<(), Refused> {
    let length = min_length(connection);
    if password.chars().count() < length as usize {
        return refused(format!(
            "Password is too short: use at least {length} characters."
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return refused("Password is too long.");
    }
    let [lower, upper, digit, special] = kinds(password);
    let kinds_used = [lower, upper, digit, special]
        .iter()
        .filter(|k| **k)
        .count();
    match connection.password_policy {
        PasswordStrength::None | PasswordStrength::Low => {}
        PasswordStrength::Fair if !(lower && upper && digit) => {
            return refused(
                "Password is too weak: use lower-case and upper-case letters and digits.",
            )
        }
        PasswordStrength::Fair => {}
        PasswordStrength::Good | PasswordStrength::Excellent if kinds_used < 3 => {
            return refused(
                "Password is too weak: use at least 3 of lower-case letters, upper-case \
                 letters, digits and special characters.",
            )
        }
        PasswordStrength::Good => {}
        PasswordStrength::Excellent if has_triple(password) => {
            return refused(
                "Password is too weak: use no more than 2 identical characters in a row.",
            )
        }
        PasswordStrength::Excellent => {}
    }
    if connection.dictionary.enable {
        let listed = connection
            .dictionary
            .entries
            .iter()
            .any(|word| word.to_lowercase() == password.to_lowercase());
        if listed || is_common(password) {
            return refused(TOO_COMMON);
        }
    }
    if connection.no_personal_info {
        let lowered = password.to_lowercase();
        if personal_parts(owner)
            .iter()
            .any(|part| lowered.contains(part.as_str()))
        {
            return refused(HAS_USER_INFO);
        }
    }
    Ok(())
}

/// The policy's rules in short sentences, for the pages where a user chooses a password.
pub fn rules(connection: &DatabaseConnection) -> Vec<String> {
    let length = min_length(connection);
    let plural = if length == 1 { "" } else { "s" };
    let mut rules = vec![format!("At least {length} character{plural}")];
    match connection.password_policy {
        PasswordStrength::None | PasswordStrength::Low => {}
        PasswordStrength::Fair => {
            rules.push("Lower-case and upper-case letters and digits".into());
        }
        PasswordStrength::Good | PasswordStrength::Excellent => rules.push(
            "At least 3 of: lower-case letters, upper-case letters, digits, special characters \
             (such as !@#$%^&*)"
                .into(),
        ),
    }
    if connection.password_policy == PasswordStrength::Excellent {
        rules.push("No more than 2 identical characters in a row".into());
    }
    if connection.dictionary.enable {
        rules.push("Not a common password".into());
    }
    if connection.no_personal_info {
        rules.push("Not containing your name or email address".into());
    }
    if connection.history.enable {
        rules.push(format!(
            "Not one of your last {} passwords",
            connection.history.size
        ));
    }
    rules
}

/// One of Auth0's strength rules as its `invalid_password` error reports it (password-sheriff's
/// shape): a printf-style `message` with its `format` values, and whether the password met it.
fn rule(message: &str, code: &str, format: Value, verified: bool) -> Value {
    let mut rule = serde_json::json!({ "message": message, "code": code, "verified": verified });
    if !format.is_null() {
        rule["format"] = format;
    }
    rule
}

/// Auth0's report of `password` against the connection's strength rules (length, kinds of
/// characters, identical characters): the `description` of its `PasswordStrengthError`, and the
/// `policy` text that lists the rules.
pub fn strength_report(connection: &DatabaseConnection, password: &str) -> (Value, String) {
    let length = min_length(connection);
    let [lower, upper, digit, special] = kinds(password);
    let item =
        |message: &str, code: &str, verified: bool| rule(message, code, Value::Null, verified);
    let lower_item = item("lower case letters (a-z)", "lowerCase", lower);
    let upper_item = item("upper case letters (A-Z)", "upperCase", upper);
    let digit_item = item("numbers (i.e. 0-9)", "numbers", digit);
    let mut rules = vec![rule(
        "At least %d characters in length",
        "lengthAtLeast",
        serde_json::json!([length]),
        password.chars().count() >= length as usize,
    )];
    match connection.password_policy {
        PasswordStrength::None | PasswordStrength::Low => {}
        PasswordStrength::Fair => {
            let mut contains = rule(
                "Should contain:",
                "shouldContain",
                Value::Null,
                lower && upper && digit,
            );
            contains["items"] = Value::Array(vec![lower_item, upper_item, digit_item]);
            rules.push(contains);
        }
        PasswordStrength::Good | PasswordStrength::Excellent => {
            let used = [lower, upper, digit, special]
                .iter()
                .filter(|k| **k)
                .count();
            let mut contains = rule(
                "Contain at least %d of the following %d types of characters:",
                "containsAtLeast",
                serde_json::json!([3, 4]),
                used >= 3,
            );
            contains["items"] = Value::Array(vec![
                lower_item,
                upper_item,
                digit_item,
                item(
                    "special characters (e.g. !@#$%^&*)",
                    "specialCharacters",
                    special,
                ),
            ]);
            rules.push(contains);
        }
    }
    if connection.password_policy == PasswordStrength::Excellent {
        rules.push(rule(
            "No more than %d identical characters in a row (e.g., \"%s\" not allowed)",
            "identicalChars",
            serde_json::json!([2, "aaa"]),
            !has_triple(password),
        ));
    }
    let policy = policy_text(&rules);
    let verified = rules
        .iter()
        .all(|rule| rule["verified"] == Value::Bool(true));
    (
        serde_json::json!({ "rules": rules, "verified": verified }),
        policy,
    )
}

/// The rules as Auth0's `policy` text: one `* ` line per rule, its items indented below it.
fn policy_text(rules: &[Value]) -> String {
    let format = |rule: &Value| {
        let mut text = rule["message"].as_str().unwrap_or_default().to_owned();
        for value in rule["format"].as_array().into_iter().flatten() {
            let shown = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            // The first placeholder left, whichever its kind.
            let at = [text.find("%d"), text.find("%s")]
                .into_iter()
                .flatten()
                .min();
            if let Some(at) = at {
                text.replace_range(at..at + 2, &shown);
            }
        }
        text
    };
    let mut lines = Vec::new();
    for rule in rules {
        lines.push(format!("* {}", format(rule)));
        for item in rule["items"].as_array().into_iter().flatten() {
            lines.push(format!(" * {}", format(item)));
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use portcullis_store::{PasswordDictionary, PasswordHistory};
    use serde_json::json;

    use super::*;

    fn connection(level: PasswordStrength) -> DatabaseConnection {
        DatabaseConnection {
            id: "con_1".into(),
            name: "Username-Password-Authentication".into(),
            disable_signup: false,
            password_policy: level,
            min_length: None,
            dictionary: PasswordDictionary::default(),
            no_personal_info: false,
            history: PasswordHistory {
                enable: false,
                size: 5,
            },
        }
    }

    fn passes(connection: &DatabaseConnection, password: &str) -> bool {
        check(connection, password, &Owner::default()).is_ok()
    }

    #[test]
    fn levels_follow_auth0() {
        let none = connection(PasswordStrength::None);
        assert!(passes(&none, "a") && !passes(&none, ""));
        let low = connection(PasswordStrength::Low);
        assert!(passes(&low, "abcdef") && !passes(&low, "abcde"));
        let fair = connection(PasswordStrength::Fair);
        assert!(passes(&fair, "abcDEF12") && !passes(&fair, "abcdef12"));
        assert!(!passes(&fair, "aB1"), "too short");
        let good = connection(PasswordStrength::Good);
        assert!(passes(&good, "abcdef1!") && passes(&good, "ABCDEF1a"));
        assert!(!passes(&good, "abcdefg1"), "two kinds");
        let excellent = connection(PasswordStrength::Excellent);
        assert!(passes(&excellent, "abcdeF1!xy"));
        assert!(!passes(&excellent, "abcdeF1!x"), "nine characters");
        assert!(
            !passes(&excellent, "abcccF1!xy"),
            "three identical in a row"
        );
        assert!(passes(&excellent, "abccdF1!cc"));
    }

    #[test]
    fn min_length_replaces_the_levels() {
        let mut low = connection(PasswordStrength::Low);
        low.min_length = Some(8);
        assert!(!passes(&low, "abcdefg") && passes(&low, "abcdefgh"));
        assert_eq!(
            check(&low, "short", &Owner::default()).unwrap_err().0,
            "Password is too short: use at least 8 characters."
        );
        let mut excellent = connection(PasswordStrength::Excellent);
        excellent.min_length = Some(4);
        assert!(passes(&excellent, "aB1!"));
        assert!(!passes(&low, &"a".repeat(MAX_PASSWORD_BYTES + 1)));
    }

    #[test]
    fn the_dictionary_refuses_common_and_listed_passwords() {
        let mut policy = connection(PasswordStrength::None);
        policy.dictionary = PasswordDictionary {
            enable: true,
            entries: vec!["Portcullis2025".into()],
        };
        for common in [
            "password", "Password", "123456", "qwerty", "iloveyou", "sunshine",
        ] {
            assert!(!passes(&policy, common), "{common}");
        }
        assert!(!passes(&policy, "portcullis2025"));
        assert!(passes(&policy, "correct horse battery"));
        assert!(passes(&policy, "Tr0ub4dor&3-staple"));
    }

    #[test]
    fn personal_information_is_refused() {
        let mut policy = connection(PasswordStrength::None);
        policy.no_personal_info = true;
        let metadata = json!({"first": "Janet"}).as_object().cloned().unwrap();
        let owner = Owner {
            email: "jdoe@example.com",
            name: "Jane Doe",
            nickname: "jd",
            user_metadata: Some(&metadata),
        };
        for bad in ["jdoe2024!", "I am Jane", "xxDOExx", "janet-rocks"] {
            assert!(check(&policy, bad, &owner).is_err(), "{bad}");
        }
        assert!(check(&policy, "correct horse battery", &owner).is_ok());
    }

    #[test]
    fn the_strength_report_is_auth0s() {
        let (report, policy) = strength_report(&connection(PasswordStrength::Excellent), "aaaB1");
        assert_eq!(report["verified"], false);
        let rules = report["rules"].as_array().unwrap();
        assert_eq!(rules[0]["format"], json!([10]));
        assert_eq!(rules[0]["verified"], false);
        assert_eq!(rules[1]["verified"], true, "three kinds");
        assert_eq!(rules[2]["code"], "identicalChars");
        assert_eq!(rules[2]["verified"], false);
        assert!(policy.starts_with("* At least 10 characters in length\n"));
        assert!(policy.ends_with(
            "* No more than 2 identical characters in a row (e.g., \"aaa\" not allowed)"
        ));
        let (fair, _) = strength_report(&connection(PasswordStrength::Fair), "abcDEF12");
        assert_eq!(fair["verified"], true);
        assert_eq!(fair["rules"][1]["code"], "shouldContain");
    }

    #[test]
    fn rules_describe_the_policy() {
        let mut policy = connection(PasswordStrength::Excellent);
        policy.dictionary.enable = true;
        let rules = rules(&policy);
        assert_eq!(rules[0], "At least 10 characters");
        assert!(rules.iter().any(|r| r.contains("identical")));
        assert!(rules.iter().any(|r| r == "Not a common password"));
    }
}
