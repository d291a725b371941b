// Loads /auth_config.json (domain, clientId, audience, apiUrl), served by the server that hosts
// this page, then starts the app with it as the AUTH_CONFIG constant.
(function () {

  'use strict';

  var request = new XMLHttpRequest();
  request.open('GET', '/auth_config.json');
  request.onload = function() {
    angular.module('app').constant('AUTH_CONFIG', JSON.parse(request.responseText));
    angular.bootstrap(document, ['app']);
  };
  request.send();

})();
