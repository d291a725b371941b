// The WebAuthn ceremonies of a page, shared by the hosted login pages (inline, under the
// page's nonce) and the dashboard (as its static asset). Each button names its ceremony and
// the script element holding its options, or (data-fetch) the endpoint that starts one when it
// is needed: the page's CSRF value and authorization request are posted there, with the field
// data-with names, and the answer is the ceremony and its options. The browser's answer is
// posted by the page's form #webauthn-form as a plain form submission. A page whose field has
// autocomplete "username webauthn" and a button marked data-conditional also offers its
// passkeys in the field's autofill.
(() => {
  const form = document.getElementById('webauthn-form');
  const buttons = document.querySelectorAll('button[data-ceremony], button[data-fetch]');
  const supported = window.PublicKeyCredential
    && PublicKeyCredential.parseCreationOptionsFromJSON
    && PublicKeyCredential.parseRequestOptionsFromJSON;
  if (!form || !supported) {
    document.querySelectorAll('.webauthn').forEach((element) => { element.hidden = true; });
    return;
  }
  const status = document.getElementById('webauthn-status');
  const say = (message) => {
    if (status) { status.textContent = message; status.hidden = false; }
  };
  let pending = null;
  // A ceremony's id and options: from the page, or fetched when the button needs them.
  const ceremonyOf = async (button) => {
    if (!button.dataset.fetch) {
      return {
        ceremony: button.dataset.ceremony,
        options: JSON.parse(document.getElementById(button.dataset.options).textContent),
      };
    }
    const body = new URLSearchParams();
    body.set('csrf', form.elements.csrf.value);
    body.set('authorize_query', form.elements.authorize_query.value);
    if (button.dataset.with) {
      const field = document.getElementById(button.dataset.with);
      body.set(field.name, field.value);
    }
    const response = await fetch(button.dataset.fetch, { method: 'POST', body, credentials: 'same-origin' });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      const refused = new Error(answer.error_description || 'The ceremony could not start.');
      refused.name = 'Refused';
      throw refused;
    }
    return answer;
  };
  const run = async (button, mediation) => {
    const field = button.dataset.with && document.getElementById(button.dataset.with);
    if (field && !field.reportValidity()) { return; }
    try {
      const { ceremony, options } = await ceremonyOf(button);
      let credential;
      if (button.dataset.mode === 'create') {
        const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey);
        credential = await navigator.credentials.create({ publicKey });
      } else {
        if (pending) { pending.abort(); }
        pending = new AbortController();
        const request = {
          publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey),
          signal: pending.signal,
        };
        if (mediation) { request.mediation = mediation; }
        credential = await navigator.credentials.get(request);
      }
      if (credential) {
        form.elements.ceremony.value = ceremony;
        form.elements.credential.value = JSON.stringify(credential.toJSON());
        form.submit();
      }
    } catch (error) {
      // The autofill's request fails quietly (no passkey here, or none picked): only a
      // person's click deserves a message.
      if (error.name === 'Refused' && !mediation) {
        say(error.message);
      } else if (error.name !== 'AbortError' && !mediation) {
        say('The security key or passkey was not used. Try again.');
      }
    }
  };
  buttons.forEach((button) => {
    button.addEventListener('click', (event) => { event.preventDefault(); run(button); });
  });
  const conditional = document.querySelector('button[data-conditional]');
  if (conditional && PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then((available) => {
      if (available) { run(conditional, 'conditional'); }
    });
  }
})();
