// Shows the embed snippet with this server's address.
(function () {
  "use strict";
  var s = document.getElementById("snippet");
  if (s) s.textContent = '<script src="' + location.origin + '/widget.js" data-title="Chat with us" defer></script>';
})();
