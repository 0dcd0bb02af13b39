//! Accounts from the command line: `bulletin user add` and `bulletin token
//! create` against a server's database, on either engine.

use std::process::Output;

use crate::support::*;

fn bulletin(server: &TestServer, args: &[&str], stdin: Option<&str>) -> Output {
    server.command(args, stdin.unwrap_or_default())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

#[tokio::test]
async fn people_and_tokens_are_added_from_the_command_line() {
    let server = TestServer::start();

    // A generated password is printed once; it is never what the command line held.
    let added = bulletin(&server, &["user", "add", "Ada", "--name", "Ada Lovelace", "--admin"], None);
    assert!(added.status.success(), "{}", text(&added.stderr));
    let out = text(&added.stdout);
    assert!(out.starts_with("added admin ada (Ada Lovelace)\n"), "{out}");
    let password = out.lines().find_map(|l| l.strip_prefix("password: ")).expect("a printed password");
    assert_eq!(password.chars().count(), 20, "{out}");

    // A password from standard input is taken as typed, and not echoed.
    let bob = bulletin(&server, &["user", "add", "bob", "--password-stdin"], Some("a long enough one\n"));
    assert!(bob.status.success(), "{}", text(&bob.stderr));
    assert_eq!(text(&bob.stdout), "added member bob (bob)\n");

    // Refusals say why and exit non-zero.
    for (args, stdin, why) in [
        (vec!["user", "add", "ADA"], None, "taken"),
        (vec!["user", "add", "x"], None, "login name"),
        (vec!["user", "add", "carol", "--password-stdin"], Some("short\n"), "at least 10 characters"),
        (vec!["token", "create", "nobody"], None, "no user nobody"),
    ] {
        let refused = bulletin(&server, &args, stdin);
        assert!(!refused.status.success(), "{args:?} succeeded");
        assert!(text(&refused.stderr).contains(why), "{args:?}: {}", text(&refused.stderr));
    }

    // A token is printed alone on its line, once, with its recognisable prefix.
    let token = bulletin(&server, &["token", "create", "ada", "--name", "laptop"], None);
    assert!(token.status.success(), "{}", text(&token.stderr));
    let token = text(&token.stdout);
    assert!(token.starts_with("bt_") && token.trim_end().len() == 46 && token.lines().count() == 1, "{token}");
    let again = text(&bulletin(&server, &["token", "create", "ada"], None).stdout);
    assert_ne!(again, token, "every token is new");
}
