// The /account page: sign in with cookie transport, list this person's devices, sign them out.
// Served as a file (the CSP allows scripts from 'self' only); no build step, no dependencies.
'use strict';

(() => {
  const csrfCookie = document.querySelector('meta[name="csrf-cookie"]').content;
  const $ = (id) => document.getElementById(id);
  const status = $('status');

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle('error', Boolean(isError));
  }

  function readCookie(name) {
    for (const part of document.cookie.split('; ')) {
      const eq = part.indexOf('=');
      if (part.slice(0, eq) === name) return decodeURIComponent(part.slice(eq + 1));
    }
    return '';
  }

  async function send(method, path, body) {
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    // The access cookie authenticates; a state change must prove it comes from this page.
    if (method !== 'GET') headers['x-csrf-token'] = readCookie(csrfCookie);
    return fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** One request; after an expired or missing access cookie, one refresh and one retry. */
  async function api(method, path, body) {
    let res = await send(method, path, body);
    if (res.status === 401) {
      const { code } = await res
        .clone()
        .json()
        .catch(() => ({}));
      if (code === 'TOKEN_INVALID' || code === 'TOKEN_MISSING') {
        const refreshed = await send('POST', '/auth/refresh');
        if (refreshed.ok) res = await send(method, path, body);
      }
    }
    return res;
  }

  async function problem(res) {
    const body = await res.json().catch(() => ({}));
    return body.message || `The service answered ${res.status}`;
  }

  function showSignIn(message) {
    $('devices').hidden = true;
    $('signin').hidden = false;
    say(message || 'Sign in to see the devices signed in to your account.');
    $('signin').elements.username.focus();
  }

  function line(className, text) {
    const div = document.createElement('div');
    div.className = className;
    div.textContent = text;
    return div;
  }

  const when = (iso) =>
    iso
      ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
      : '—';

  // Every value from the server is set as text, never as HTML: a user agent or a label is
  // whatever a client sent, and must not be able to run script in this page.
  function deviceItem(session) {
    const li = document.createElement('li');
    li.dataset.sessionId = session.id;
    if (session.current) li.classList.add('current');
    const info = document.createElement('div');
    const deviceName = session.device && session.device.name;
    const name = line('device-name', deviceName || session.userAgent || 'Unknown device');
    if (session.current) {
      name.append(
        Object.assign(document.createElement('span'), {
          className: 'badge',
          textContent: 'This device',
        }),
      );
    }
    info.append(name);
    // The parsed name is what people recognise; the raw user agent stays as a detail.
    if (deviceName && session.userAgent)
      info.append(line('device-meta device-ua', session.userAgent));
    if (session.label) info.append(line('device-meta', session.label));
    info.append(line('device-meta', `Where: ${session.lastSeenIp || session.ip || 'unknown'}`));
    info.append(
      line(
        'device-meta',
        `Last active: ${when(session.lastSeenAt)} · signed in ${when(session.createdAt)}`,
      ),
    );
    li.append(info);
    if (!session.current) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Sign out';
      button.addEventListener('click', () => signOut(session.id, button));
      li.append(button);
    }
    return li;
  }

  async function loadDevices() {
    const [list, me] = await Promise.all([
      api('GET', '/sessions'),
      api('GET', '/sessions/current'),
    ]);
    if (list.status === 401 || me.status === 401) return showSignIn();
    if (!list.ok) return say(await problem(list), true);
    const sessions = await list.json();
    const current = me.ok ? await me.json() : null;
    $('signin').hidden = true;
    $('devices').hidden = false;
    $('whoami').textContent = current ? `Signed in as ${current.user.username}.` : '';
    $('device-list').replaceChildren(...sessions.map(deviceItem));
    $('signout-others').disabled = sessions.length < 2;
    say(
      sessions.length === 1
        ? 'Only this device is signed in.'
        : `${sessions.length} devices are signed in.`,
    );
  }

  async function signOut(id, button) {
    button.disabled = true;
    const res = await api('DELETE', `/sessions/${encodeURIComponent(id)}`);
    if (res.status === 204) return loadDevices();
    button.disabled = false;
    say(await problem(res), true);
  }

  $('signin').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const res = await send('POST', '/auth/login', {
      username: form.elements.username.value,
      password: form.elements.password.value,
    });
    form.elements.password.value = '';
    if (res.status === 201) return loadDevices();
    if (res.status === 429) {
      return say(
        `Too many attempts: try again in ${res.headers.get('retry-after') || 'a few'} seconds.`,
        true,
      );
    }
    say(res.status === 401 ? 'Wrong username or password.' : await problem(res), true);
  });

  $('signout-others').addEventListener('click', async () => {
    const res = await api('DELETE', '/sessions?scope=others');
    if (!res.ok) return say(await problem(res), true);
    const { ended } = await res.json();
    await loadDevices();
    say(`Signed out ${ended} other device${ended === 1 ? '' : 's'}.`);
  });

  $('signout-self').addEventListener('click', async () => {
    const res = await api('POST', '/auth/logout');
    // 401: the session was already over; either way nobody is signed in here any more.
    if (!res.ok && res.status !== 401) return say(await problem(res), true);
    showSignIn('You are signed out.');
  });

  loadDevices().catch((error) => say(`Could not load your devices: ${error.message}`, true));
})();
