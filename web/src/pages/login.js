// Signup and login forms.

import { accounts, ApiError } from "../api.js";
import { h, navigate } from "../dom.js";
import * as session from "../session.js";

/**
 * Whether a refusal asks for the second factor: with two-factor on, the accounts
 * API answers 401 -1102 naming the `otp` parameter until a code is sent (login,
 * new API keys, password changes). The form then shows its code field.
 */
export function needsSecondFactor(error) {
  return error.status === 401 && error.code === -1102 && error.message.includes("'otp'");
}

/** The extra fields a form sends once it shows its code field. */
export function codeFields(code) {
  return code ? { otp: code } : {};
}

function field(label, input) {
  return h("label", { class: "field" }, h("span", { text: label }), input);
}

function afterLogin() {
  const next = new URLSearchParams(location.search).get("next");
  navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/trade/BTCUSDT");
}

export function mountLogin(main) {
  const username = h("input", { name: "username", autocomplete: "username", required: true });
  const password = h("input", {
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const code = h("input", {
    name: "otp",
    inputmode: "numeric",
    autocomplete: "one-time-code",
    maxlength: "10",
  });
  const codeField = field("Two-factor code", code);
  codeField.hidden = true;
  const error = h("p", { class: "error", role: "alert" });
  const changed = new URLSearchParams(location.search).has("changed");
  const notice = changed
    ? h("p", { class: "message ok", text: "Password changed. Log in with the new one." })
    : null;
  const submit = h("button", { type: "submit", class: "button", text: "Log in" });
  const form = h(
    "form",
    { class: "card auth", id: "login-form", novalidate: true },
    h("h1", { text: "Log in" }),
    notice,
    field("Username", username),
    field("Password", password),
    codeField,
    error,
    submit,
    h("p", { class: "muted" }, "No account? ", h("a", { href: "/signup", "data-link": true, text: "Sign up" })),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    try {
      const extra = codeField.hidden ? {} : codeFields(code.value.trim());
      const pair = await accounts.login(username.value.trim(), password.value, extra);
      session.start(pair, username.value.trim());
      afterLogin();
    } catch (err) {
      if (err instanceof ApiError && needsSecondFactor(err)) {
        codeField.hidden = false;
        code.focus();
        error.textContent = "Enter the code from your authenticator app (or a recovery code).";
      } else {
        error.textContent = err.message;
      }
    } finally {
      submit.disabled = false;
    }
  });
  main.append(form);
  username.focus();
}

export function mountSignup(main) {
  const username = h("input", {
    name: "username",
    autocomplete: "username",
    required: true,
    pattern: "[\\w.@+\\-]{3,150}",
  });
  const email = h("input", { name: "email", type: "email", autocomplete: "email" });
  const password = h("input", {
    name: "password",
    type: "password",
    autocomplete: "new-password",
    required: true,
    minlength: "8",
  });
  const error = h("p", { class: "error", role: "alert" });
  const submit = h("button", { type: "submit", class: "button", text: "Create account" });
  const form = h(
    "form",
    { class: "card auth", id: "signup-form", novalidate: true },
    h("h1", { text: "Create your account" }),
    field("Username", username),
    field("E-mail (optional)", email),
    field("Password", password),
    error,
    submit,
    h("p", { class: "muted" }, "Have an account? ", h("a", { href: "/login", "data-link": true, text: "Log in" })),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    const name = username.value.trim();
    try {
      await accounts.register(name, password.value, email.value.trim());
      const pair = await accounts.login(name, password.value);
      session.start(pair, name);
      afterLogin();
    } catch (err) {
      error.textContent = err.message;
    } finally {
      submit.disabled = false;
    }
  });
  main.append(form);
  username.focus();
}
