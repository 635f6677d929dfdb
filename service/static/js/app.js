/* rectiflow pages: the little script they need. Every page works without it; it adds
   - the phone menu's current item scrolled into view,
   - the CSRF header to htmx requests,
   - a question before forms that end something (data-confirm),
   - one-shot submit buttons (a second click does not post twice),
   - repeatable form rows added and removed in place,
   - evidence upload with a progress bar. */
(function () {
  'use strict';

  /* On a phone the main menu is one row that scrolls sideways: start with the current page's item
     in view (the row alone scrolls, never the page). */
  var menuRow = document.querySelector('.mainnav ul');
  var currentItem = document.querySelector('.mainnav a[aria-current="page"]');
  if (menuRow && currentItem && menuRow.scrollWidth > menuRow.clientWidth) {
    menuRow.scrollLeft = currentItem.offsetLeft - menuRow.offsetLeft - (menuRow.clientWidth - currentItem.offsetWidth) / 2;
  }
  if (menuRow) {  // an item reached by Tab is shown whole (the browser shows a part of it at most)
    menuRow.addEventListener('focusin', function (event) {
      if (menuRow.scrollWidth > menuRow.clientWidth && event.target.scrollIntoView) {
        event.target.scrollIntoView({ block: 'nearest', inline: 'nearest' });
      }
    });
  }

  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = meta ? meta.getAttribute('content') : '';

  document.addEventListener('htmx:configRequest', function (event) {
    event.detail.headers['X-CSRFToken'] = csrfToken;
  });

  /* Forms that do something hard to undo ask first, in the words of their data-confirm. Registered
     before the one-shot handler below, which leaves a form alone once this one cancelled it. */
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form.matches || !form.matches('form[data-confirm]')) { return; }
    if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
  });

  /* One-shot forms: mark the form submitted and disable its buttons once the browser has
     taken the submission (disabling earlier would drop the button from the posted data). */
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form.matches || !form.matches('form[data-once]') || event.defaultPrevented) { return; }
    if (form.dataset.submitted) { event.preventDefault(); return; }
    form.dataset.submitted = '1';
    window.setTimeout(function () {
      form.querySelectorAll('button[type="submit"]').forEach(function (button) {
        button.disabled = true;
        button.setAttribute('aria-busy', 'true');
        if (button.dataset.busyText) { button.textContent = button.dataset.busyText; }
      });
    }, 0);
  });

  /* Back/forward cache: a page shown again must be usable again. */
  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll('form[data-once]').forEach(function (form) {
      delete form.dataset.submitted;
      form.querySelectorAll('button[type="submit"]').forEach(function (b) { b.disabled = false; b.removeAttribute('aria-busy'); });
    });
  });

  /* Repeatable rows. The <template> holds one empty row whose index is a placeholder token;
     a new row gets the next free index, so field names stay unique (items.0.measures.3.description). */
  document.addEventListener('click', function (event) {
    var add = event.target.closest('[data-add-row]');
    if (add) {
      var list = document.getElementById(add.dataset.addRow);
      var template = document.getElementById(add.dataset.template);
      if (!list || !template) { return; }
      var index = parseInt(list.dataset.next || '0', 10);
      list.dataset.next = String(index + 1);
      var html = template.innerHTML.split(template.dataset.token).join(String(index));
      list.insertAdjacentHTML('beforeend', html);
      var row = list.lastElementChild;
      var first = row && row.querySelector('input:not([type="hidden"]), textarea, select');
      if (first) { first.focus(); }
      return;
    }
    var remove = event.target.closest('[data-remove-row]');
    if (remove) {
      var item = remove.closest('[data-row]');
      if (!item) { return; }
      var container = item.parentElement;
      var addButton = container && container.parentElement.querySelector(':scope > [data-add-row]');
      item.remove();
      if (addButton) { addButton.focus(); }
    }
  });

  /* The file picker shows the chosen file's name in the page's language. */
  document.addEventListener('change', function (event) {
    var input = event.target;
    if (!input.matches || !input.matches('input.file-input')) { return; }
    var name = document.getElementById(input.id + '-name');
    if (name) { name.textContent = input.files && input.files.length ? input.files[0].name : name.dataset.empty; }
  });

  /* Evidence upload with progress: an XHR to the same endpoint the plain form posts to. */
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form.matches || !form.matches('form[data-upload]')) { return; }
    if (!window.FormData || !window.XMLHttpRequest) { return; }
    event.preventDefault();
    var input = form.querySelector('input[type="file"]');
    var status = form.querySelector('.upload-status');
    var box = form.querySelector('.upload-progress');
    var bar = form.querySelector('progress');
    var percent = form.querySelector('.upload-percent');
    var button = form.querySelector('button[type="submit"]');
    if (!input || !input.files || !input.files.length) { input && input.focus(); return; }
    var xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    xhr.setRequestHeader('X-CSRFToken', csrfToken);
    xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
    xhr.upload.addEventListener('progress', function (e) {
      if (!e.lengthComputable) { return; }
      var value = Math.round(e.loaded / e.total * 100);
      bar.value = value;
      bar.textContent = value + '%';
      percent.textContent = value + '%';
    });
    xhr.addEventListener('load', function () {
      button.disabled = false;
      if (xhr.status === 201) {
        var list = document.getElementById(form.dataset.list);
        var row = null;
        if (list) {
          list.insertAdjacentHTML('beforeend', xhr.responseText);
          row = list.lastElementChild;
          var empty = list.parentElement.querySelector('.evidence-empty');
          if (empty) { empty.hidden = true; }
        }
        bar.value = 100;
        percent.textContent = '100%';
        status.classList.remove('is-error');
        var name = input.files[0].name;
        status.textContent = (status.dataset.doneText || '✓') + ' ' + name;
        input.value = '';
        var chosen = document.getElementById(input.id + '-name');
        if (chosen) { chosen.textContent = chosen.dataset.empty; }
        if (row) {  // the new file's row takes the focus: its name, its preview and remove are next
          row.setAttribute('tabindex', '-1');
          row.focus();
        }
      } else {
        status.classList.add('is-error');
        status.textContent = xhr.responseText;
        box.hidden = true;
      }
    });
    xhr.addEventListener('error', function () {
      button.disabled = false;
      status.classList.add('is-error');
      status.textContent = form.dataset.failed || 'upload failed';
      box.hidden = true;
    });
    bar.value = 0;
    percent.textContent = '0%';
    box.hidden = false;
    status.classList.remove('is-error');
    status.textContent = form.dataset.busy || '';
    button.disabled = true;
    xhr.send(new FormData(form));
  });

  /* A refused form's error summary takes the focus, so a screen reader reads what to fix first
     (the page's, or one that htmx swapped in, as the evidence review does). */
  function focusSummary(root) {
    var summary = root.querySelector('.error-summary[tabindex="-1"]');
    if (summary) { summary.focus(); }
    return summary;
  }
  if (!document.querySelector('[autofocus]')) { focusSummary(document); }
  document.addEventListener('htmx:afterSettle', function (event) {
    var target = event.detail && event.detail.elt;
    if (target && target.querySelector) { focusSummary(target); }
  });

  /* A button that prints the page (the QR codes to print). */
  document.addEventListener('click', function (event) {
    if (event.target.closest && event.target.closest('[data-print]')) { window.print(); }
  });
}());
