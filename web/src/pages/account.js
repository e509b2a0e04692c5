// The account page: API keys (create, list, revoke; the secret shown once),
// two-factor (account/twofactor.js) and the password.

import { twoFactorPanel } from "../account/twofactor.js";
import { accounts, ApiError } from "../api.js";
import { h, navigate, replace, table, time } from "../dom.js";
import * as session from "../session.js";
import { codeFields, needsSecondFactor } from "./login.js";

function field(label, input) {
  return h("label", { class: "field" }, h("span", { text: label }), input);
}

/** A two-factor code field, shown when the account has two-factor on or the API
 * asks for a code. */
function codeInput() {
  const input = h("input", {
    name: "otp",
    inputmode: "numeric",
    autocomplete: "one-time-code",
    maxlength: "32",
  });
  const wrapper = field("Two-factor code", input);
  wrapper.hidden = true;
  return {
    wrapper,
    fields: () => (wrapper.hidden ? {} : codeFields(input.value.trim())),
    show: () => {
      wrapper.hidden = false;
    },
    hide: () => {
      wrapper.hidden = true;
      input.value = "";
    },
    refused(error) {
      if (!(error instanceof ApiError) || !needsSecondFactor(error)) return false;
      wrapper.hidden = false;
      input.focus();
      return true;
    },
    clear: () => {
      input.value = "";
    },
  };
}

export function mountAccount(main) {
  if (!session.signedIn()) {
    navigate("/login?next=/account");
    return null;
  }
  let alive = true;
  const profile = h("p", { class: "muted", id: "profile" });
  const keys = table(["Label", "API key", "Permissions", "IP allow-list", "Created", ""], "keys");
  const keysBox = h("div", { class: "scroll" }, keys.el);
  const secretBox = h("div", { id: "new-key", class: "callout", hidden: true });

  async function loadKeys() {
    const list = await accounts.apiKeys();
    if (!alive) return;
    replace(keys.body);
    if (!list.length) {
      keys.body.append(h("tr", {}, h("td", { colspan: "6", class: "empty", text: "No API keys." })));
    }
    for (const key of list) {
      const revoke = h("button", {
        type: "button",
        class: "link danger",
        text: "Revoke",
        "aria-label": `Revoke ${key.label || key.apiKey}`,
      });
      revoke.addEventListener("click", async () => {
        if (!confirm(`Revoke the key ${key.label || key.apiKey}? Programs using it stop working.`)) return;
        revoke.disabled = true;
        try {
          await accounts.revokeApiKey(key.id);
          await loadKeys();
        } catch (error) {
          revoke.disabled = false;
          keyError.textContent = error.message;
        }
      });
      keys.body.append(
        h(
          "tr",
          { "data-key-id": String(key.id) },
          h("td", { text: key.label || "–" }),
          h("td", { class: "mono", text: key.apiKey }),
          h("td", { text: key.permissions.join(", ") }),
          h("td", { text: key.ipAllowlist.length ? key.ipAllowlist.join(", ") : "any" }),
          h("td", { text: time(Date.parse(key.createdAt), true) }),
          h("td", {}, revoke),
        ),
      );
    }
  }

  const label = h("input", { name: "label", maxlength: "64" });
  const canRead = h("input", { type: "checkbox", name: "read", checked: true, disabled: true });
  const canTrade = h("input", { type: "checkbox", name: "trade" });
  const ips = h("input", { name: "ips", placeholder: "203.0.113.7, 198.51.100.0/24" });
  const keyError = h("p", { class: "error", role: "alert" });
  const keyCode = codeInput();
  const keyForm = h(
    "form",
    { id: "key-form", class: "stack" },
    field("Label", label),
    h(
      "fieldset",
      { class: "inline" },
      h("legend", { text: "Permissions" }),
      h("label", {}, canRead, " Read"),
      h("label", {}, canTrade, " Trade"),
    ),
    field("IP allow-list (optional, comma separated)", ips),
    keyCode.wrapper,
    keyError,
    h("button", { type: "submit", class: "button", text: "Create API key" }),
  );
  keyForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    keyError.textContent = "";
    try {
      const created = await accounts.createApiKey({
        label: label.value.trim(),
        permissions: canTrade.checked ? ["read", "trade"] : ["read"],
        ipAllowlist: ips.value.split(",").map((s) => s.trim()).filter(Boolean),
        ...keyCode.fields(),
      });
      replace(
        secretBox,
        h("strong", { text: "Copy the secret key now: it is shown only once." }),
        h("dl", {},
          h("dt", { text: "API key" }), h("dd", { class: "mono", id: "new-api-key", text: created.apiKey }),
          h("dt", { text: "Secret key" }), h("dd", { class: "mono", id: "new-secret-key", text: created.secretKey }),
        ),
        h("button", { type: "button", class: "link", text: "I have saved it", onclick: () => {
          replace(secretBox);
          secretBox.hidden = true;
        } }),
      );
      secretBox.hidden = false;
      keyForm.reset();
      canRead.checked = true;
      keyCode.clear();
      await loadKeys();
    } catch (error) {
      keyError.textContent = keyCode.refused(error)
        ? "Enter your two-factor code to create a key."
        : error.message;
    }
  });

  const oldPassword = h("input", { type: "password", name: "old_password", autocomplete: "current-password", required: true });
  const newPassword = h("input", { type: "password", name: "new_password", autocomplete: "new-password", required: true });
  const passwordMessage = h("p", { class: "error", role: "alert" });
  const passwordCode = codeInput();
  const passwordForm = h(
    "form",
    { id: "password-form", class: "stack" },
    field("Current password", oldPassword),
    field("New password", newPassword),
    passwordCode.wrapper,
    passwordMessage,
    h("button", { type: "submit", class: "button", text: "Change password" }),
  );
  passwordForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    passwordMessage.textContent = "";
    try {
      await accounts.changePassword({
        old_password: oldPassword.value,
        new_password: newPassword.value,
        ...passwordCode.fields(),
      });
      // Every token issued before is revoked with the old password.
      session.end();
      navigate("/login?changed=1");
    } catch (error) {
      passwordMessage.textContent = passwordCode.refused(error)
        ? "Enter your two-factor code to change the password."
        : error.message;
    }
  });

  const twoFactor = twoFactorPanel({
    onChange(enabled) {
      for (const code of [keyCode, passwordCode]) {
        if (enabled) code.show();
        else code.hide();
      }
    },
  });

  main.className = "page";
  main.append(
    h("h1", { text: "Account" }),
    profile,
    h("section", { class: "panel" }, h("h2", { text: "API keys" }),
      h("p", { class: "muted", text: "Keys sign requests to /api/v3 the way Binance's do (X-MBX-APIKEY and an HMAC-SHA256 signature)." }),
      secretBox, keysBox, keyForm),
    twoFactor.el,
    h("section", { class: "panel" }, h("h2", { text: "Password" }),
      h("p", { class: "muted", text: "Changing it logs you out everywhere." }),
      passwordForm),
  );

  accounts
    .me()
    .then((me) => {
      if (!alive) return;
      if (me.twoFactorEnabled) {
        keyCode.show();
        passwordCode.show();
      }
      twoFactor.show(me.twoFactorEnabled);
      profile.textContent = `${me.username}${me.email ? ` · ${me.email}` : ""} · member since ${time(Date.parse(me.date_joined), true).slice(0, 10)}`;
    })
    .catch((error) => {
      if (alive) twoFactor.failed(error.message);
    });
  loadKeys().catch((error) => {
    keyError.textContent = error.message;
  });
  return () => {
    alive = false;
  };
}
