// django_celery_beat's periodic task form: show the chosen crontab in words under its field.
// Its own template does this in an inline script, which the Content Security Policy refuses;
// config/templates/admin/djcelery/change_periodictask_form.html loads this file instead.
"use strict";
(function ($) {
  const readable = JSON.parse(document.getElementById("readable-crontabs").textContent);
  const original = JSON.parse(document.getElementById("crontab-help").textContent);
  const help = $(".field-crontab .help");

  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    const words = readable[$("#id_crontab").val()];
    help.text(original);
    if (words) {
      help.append("<br>", document.createTextNode("Translation: " + words));
    }
  });
})(django.jQuery);
