// app.js: the auth0.js "Calling an API" tutorial (seeds 000 and 001) for the browser.
// Settings come from /auth_config.json (domain, clientId, audience, apiUrl), which the server
// that hosts this page serves.

window.addEventListener('load', function() {
  var request = new XMLHttpRequest();
  request.open('GET', '/auth_config.json');
  request.onload = function() {
    start(JSON.parse(request.responseText));
  };
  request.send();
});

function start(config) {
  var apiUrl = config.apiUrl || 'http://localhost:3001/api';

  var options = {
    domain: config.domain,
    clientID: config.clientId,
    redirectUri: window.location.origin,
    responseType: 'token id_token',
    audience: config.audience,
    scope: 'openid profile read:messages',
    leeway: 60
  };
  // auth0.js expects the ID token's issuer to be 'https://' + domain + '/'. For a domain given
  // with its scheme (http://localhost:4000), name the issuer with the documented override.
  if (/^https?:\/\//.test(config.domain)) {
    options.overrides = { __token_issuer: config.domain.replace(/\/+$/, '') + '/' };
  }
  var webAuth = new auth0.WebAuth(options);
  // Reachable from the console (and the browser suite), e.g. webAuth.signup(...).
  window.webAuth = webAuth;

  var loginStatus = document.getElementById('login-status');
  var homeView = document.getElementById('home-view');
  var pingView = document.getElementById('ping-view');

  // buttons and event listeners
  var loginBtn = document.getElementById('qsLoginBtn');
  var logoutBtn = document.getElementById('qsLogoutBtn');
  var renewTokenBtn = document.getElementById('btn-renew-token');

  var homeViewBtn = document.getElementById('btn-home-view');
  var pingViewBtn = document.getElementById('btn-ping-view');

  var pingPublic = document.getElementById('btn-ping-public');
  var pingPrivate = document.getElementById('btn-ping-private');
  var pingPrivateScoped = document.getElementById('btn-ping-private-scoped');

  var callPrivateMessage = document.getElementById('call-private-message');
  var pingMessage = document.getElementById('ping-message');

  pingPublic.addEventListener('click', function() {
    callAPI('/public', false);
  });

  pingPrivate.addEventListener('click', function() {
    callAPI('/private', true);
  });

  pingPrivateScoped.addEventListener('click', function() {
    callAPI('/private-scoped', true);
  });

  loginBtn.addEventListener('click', login);
  logoutBtn.addEventListener('click', logout);
  renewTokenBtn.addEventListener('click', renewToken);

  homeViewBtn.addEventListener('click', function() {
    homeView.classList.remove('hidden');
    pingView.classList.add('hidden');
  });

  pingViewBtn.addEventListener('click', function() {
    homeView.classList.add('hidden');
    pingView.classList.remove('hidden');
  });

  function login() {
    webAuth.authorize();
  }

  function setSession(authResult) {
    // Set the time that the access token will expire at
    var expiresAt = JSON.stringify(
      authResult.expiresIn * 1000 + new Date().getTime()
    );
    localStorage.setItem('access_token', authResult.accessToken);
    localStorage.setItem('id_token', authResult.idToken);
    localStorage.setItem('expires_at', expiresAt);
  }

  function clearSession() {
    // Remove tokens and expiry time from localStorage
    localStorage.removeItem('access_token');
    localStorage.removeItem('id_token');
    localStorage.removeItem('expires_at');
  }

  function logout() {
    clearSession();
    pingMessage.innerHTML = '';
    // End the session at the authorization server too, then come back here.
    webAuth.logout({ returnTo: window.location.origin });
  }

  function isAuthenticated() {
    // Check whether the current time is past the
    // access token's expiry time
    var expiresAt = JSON.parse(localStorage.getItem('expires_at'));
    return new Date().getTime() < expiresAt;
  }

  function renewToken() {
    webAuth.checkSession({}, function(err, result) {
      if (err) {
        console.log(err);
        clearSession();
        loginStatus.innerHTML =
          'Could not renew the session (' + err.error + '): please log in again.';
      } else {
        setSession(result);
        loginStatus.innerHTML = 'You are logged in! (session renewed)';
      }
      displayButtons();
    });
  }

  function handleAuthentication() {
    webAuth.parseHash(function(err, authResult) {
      if (authResult && authResult.accessToken && authResult.idToken) {
        window.location.hash = '';
        setSession(authResult);
        loginBtn.classList.add('hidden');
        homeView.classList.remove('hidden');
        displayButtons();
      } else if (err) {
        homeView.classList.remove('hidden');
        console.log(err);
        alert(
          'Error: ' + err.error + '. Check the console for further details.'
        );
        displayButtons();
      } else if (localStorage.getItem('access_token')) {
        // A returning visitor: renew the tokens from the authorization server's session.
        renewToken();
      } else {
        displayButtons();
      }
    });
  }

  function displayButtons() {
    if (isAuthenticated()) {
      loginBtn.classList.add('hidden');
      logoutBtn.classList.remove('hidden');
      renewTokenBtn.classList.remove('hidden');
      if (loginStatus.innerHTML.indexOf('You are logged in') !== 0) {
        loginStatus.innerHTML = 'You are logged in!';
      }
      callPrivateMessage.classList.add('hidden');
    } else {
      loginBtn.classList.remove('hidden');
      logoutBtn.classList.add('hidden');
      renewTokenBtn.classList.add('hidden');
      if (loginStatus.innerHTML.indexOf('Could not') !== 0) {
        loginStatus.innerHTML = 'You are not logged in! Please log in to continue.';
      }
      callPrivateMessage.classList.remove('hidden');
    }
    document.body.setAttribute('data-ready', 'true');
  }

  function callAPI(endpoint, secured) {
    var url = apiUrl + endpoint;
    var xhr = new XMLHttpRequest();
    xhr.open('GET', url);
    if (secured) {
      xhr.setRequestHeader(
        'Authorization',
        'Bearer ' + localStorage.getItem('access_token')
      );
    }
    xhr.onload = function() {
      if (xhr.status == 200) {
        // update message
        document.querySelector('#ping-view h2').innerHTML = JSON.parse(
          xhr.responseText
        ).message;
      } else {
        alert('Request failed: ' + xhr.statusText);
      }
    };
    xhr.send();
  }

  handleAuthentication();
}
