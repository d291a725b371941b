// app/auth/auth.service.js
(function () {

  'use strict';

  angular
    .module('app')
    .service('authService', authService);

  authService.$inject = ['$state', 'angularAuth0', '$timeout'];

  function authService($state, angularAuth0, $timeout) {

    var status = { ready: false, message: '' };

    function login() {
      angularAuth0.authorize();
    }

    function handleAuthentication() {
      angularAuth0.parseHash(function(err, authResult) {
        if (authResult && authResult.accessToken && authResult.idToken) {
          setSession(authResult);
          status.ready = true;
          $state.go('home');
        } else if (err) {
          $timeout(function() {
            $state.go('home');
          });
          console.log(err);
          status.ready = true;
          alert('Error: ' + err.error + '. Check the console for further details.');
        } else if (localStorage.getItem('access_token')) {
          // A returning visitor: renew the tokens from the authorization server's session.
          renewTokens();
        } else {
          status.ready = true;
        }
      });
    }

    function setSession(authResult) {
      // Set the time that the access token will expire at
      let expiresAt = JSON.stringify((authResult.expiresIn * 1000) + new Date().getTime());
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

    function renewTokens() {
      angularAuth0.checkSession({}, function(err, result) {
        if (err) {
          console.log(err);
          clearSession();
          status.message = 'Could not renew the session (' + err.error + '): please log in again.';
        } else {
          setSession(result);
          status.message = 'Session renewed.';
        }
        status.ready = true;
      });
    }

    function logout() {
      clearSession();
      // End the session at the authorization server too, then come back here.
      angularAuth0.logout({ returnTo: window.location.origin });
    }

    function isAuthenticated() {
      // Check whether the current time is past the
      // access token's expiry time
      let expiresAt = JSON.parse(localStorage.getItem('expires_at'));
      return new Date().getTime() < expiresAt;
    }

    return {
      status: status,
      login: login,
      handleAuthentication: handleAuthentication,
      renewTokens: renewTokens,
      logout: logout,
      isAuthenticated: isAuthenticated
    }
  }
})();
