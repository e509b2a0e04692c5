// The account page's two-factor panel: whether it is on; turning it on (a QR
// code and the secret from the API, confirmed with a code; the recovery codes
// shown once); new recovery codes; turning it off with a code.

import { accounts } from "../api.js";
import { h, replace } from "../dom.js";

const ON = "On: a code from your authenticator app is asked at login, to create API keys and to change the password.";
const OFF = "Off: your password alone lets someone in. Turn it on to ask for a code from an authenticator app too.";

function codeField(id) {
  const input = h("input", {
    name: "otp",
    inputmode: "numeric",
    autocomplete: "one-time-code",
    maxlength: "32",
    required: true,
    id,
  });
  return { input, el: h("label", { class: "field" }, h("span", { text: "Code" }), input) };
}

/**
 * The QR code the API drew (`qrSvg`), as an image: an SVG in an <img> runs no
 * script and loads nothing, and the page's policy already takes data: images, so
 * the API's markup never enters the document.
 */
function qrImage(svg) {
  if (typeof svg !== "string" || !svg.startsWith("<svg")) return null;
  return h("img", {
    id: "twofactor-qr",
    class: "qr",
    src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`,
    alt: "QR code of the account's two-factor secret, for an authenticator app",
    width: "184",
    height: "184",
  });
}

/**
 * The panel. `onChange(enabled)` is called when two-factor is turned on or off,
 * so that the page's other forms show or hide their code fields.
 */
export function twoFactorPanel({ onChange }) {
  const status = h("p", { id: "twofactor-status", class: "muted", text: "Checking…" });
  const body = h("div", { id: "twofactor-body" });
  const error = h("p", { id: "twofactor-error", class: "error", role: "alert" });
  const el = h("section", { class: "panel", id: "twofactor" },
    h("h2", { text: "Two-factor authentication" }), status, body, error);

  async function attempt(button, action) {
    error.textContent = "";
    button.disabled = true;
    try {
      await action();
    } catch (err) {
      error.textContent = err.message;
    } finally {
      button.disabled = false;
    }
  }

  function showOff() {
    el.dataset.state = "off";
    status.textContent = OFF;
    const start = h("button", { type: "button", class: "button", id: "twofactor-start", text: "Turn on" });
    start.addEventListener("click", () => attempt(start, async () => showEnrolment(await accounts.twoFactorEnrol())));
    replace(body, start);
  }

  function showEnrolment(enrolment) {
    el.dataset.state = "enrolling";
    status.textContent = "Scan the QR code with an authenticator app (or type the secret into it), then enter the 6-digit code it shows.";
    const code = codeField("twofactor-confirm-code");
    const confirm = h("button", { type: "submit", class: "button", text: "Confirm" });
    const cancel = h("button", { type: "button", class: "link", text: "Cancel" });
    cancel.addEventListener("click", () => {
      error.textContent = "";
      showOff();
    });
    const form = h("form", { id: "twofactor-confirm", class: "stack" }, code.el,
      h("p", { class: "actions" }, confirm, cancel));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      attempt(confirm, async () => {
        const answer = await accounts.twoFactorConfirm(code.input.value.trim());
        onChange(true);
        showRecoveryCodes(answer.recoveryCodes, "Two-factor is on.");
      });
    });
    replace(
      body,
      h("div", { class: "enrolment" },
        qrImage(enrolment.qrSvg),
        h("dl", {},
          h("dt", { text: "Secret" }),
          h("dd", { class: "mono", id: "twofactor-secret", text: enrolment.secret }),
          h("dt", { text: "Link" }),
          h("dd", { class: "mono uri", id: "twofactor-uri", text: enrolment.otpauthUri }),
        ),
      ),
      form,
    );
    code.input.focus();
  }

  function showRecoveryCodes(codes, heading) {
    el.dataset.state = "codes";
    status.textContent = ON;
    const done = h("button", { type: "button", class: "button", id: "recovery-codes-saved", text: "I have saved them" });
    done.addEventListener("click", showOn);
    replace(
      body,
      h("div", { class: "callout", id: "recovery-codes" },
        h("strong", { text: `${heading} Save these recovery codes now: they are shown only once.` }),
        h("p", { text: "Each one works once in place of a code, if you lose your authenticator app." }),
        h("ol", { class: "codes mono" }, codes.map((c) => h("li", { text: c }))),
        done,
      ),
    );
  }

  function showOn() {
    el.dataset.state = "on";
    status.textContent = ON;
    const code = codeField("twofactor-code");
    const disable = h("button", { type: "submit", class: "button danger", id: "twofactor-disable", text: "Turn off" });
    const renew = h("button", { type: "button", class: "link", id: "twofactor-renew", text: "New recovery codes" });
    const form = h("form", { id: "twofactor-manage", class: "stack" },
      h("p", { class: "muted", text: "Enter a current code (or a recovery code) to turn two-factor off or to replace the recovery codes." }),
      code.el, h("p", { class: "actions" }, disable, renew));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      attempt(disable, async () => {
        await accounts.twoFactorDisable(code.input.value.trim());
        onChange(false);
        showOff();
      });
    });
    renew.addEventListener("click", () => {
      if (!form.reportValidity()) return;
      attempt(renew, async () => {
        const answer = await accounts.twoFactorRecoveryCodes(code.input.value.trim());
        showRecoveryCodes(answer.recoveryCodes, "New recovery codes: the old ones no longer work.");
      });
    });
    replace(body, form);
  }

  return {
    el,
    show: (enabled) => (enabled ? showOn() : showOff()),
    failed: (message) => {
      status.textContent = "Two-factor status unknown.";
      error.textContent = message;
    },
  };
}
