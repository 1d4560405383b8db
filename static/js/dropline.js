/* Behaviour the templates ask for with data attributes, because the Content-Security-Policy allows no inline event
   handlers (docs/adr/0013-security-hardening.md):
   - <select data-autosubmit>: choosing an option submits its form;
   - <form data-confirm="Question?">: submitting asks first;
   - <input data-select-all>: focusing the field selects its text (links to copy). */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (!field.matches || !field.matches("select[data-autosubmit]") || !field.form) return;
    if (field.form.requestSubmit) field.form.requestSubmit(); else field.form.submit();
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("input[data-select-all]")) event.target.select();
  });
})();
