// form.js: forms built from field lists, read back as API bodies, with the
// API's problem+json field errors shown next to the field they name.
//
// A field: {key: 'timeouts.header_ms', label, type, help, options, show(values)}
// Types: text, number, password, select, multiselect (several options ->
// array), checkbox, list (comma or space separated -> array), textarea (with an optional file picker: file: true),
// rows (an array of objects edited as table rows: columns, newRow, min).
// A section ({type: 'section', label, fold: true}) folds the fields after
// it, up to the next section, into a <details> that opens on an error.
//
// A field may bring its own schema (f.schema) and check (f.check(value)).
// With opts.schema (a component of the served OpenAPI document) the form
// checks what the schema states before sending: required fields (empty
// selects too), integer ranges, patterns and lengths, every problem at its
// field at once; the API checks the rest and answers with all of its own.

import { h, clear } from './ui.js';
import { schemaProp, schemaItems } from './api.js';

let formSeq = 0;

export function getPath(obj, key) {
  let o = obj;
  for (const k of key.split('.')) {
    if (o === null || o === undefined || typeof o !== 'object') return undefined;
    o = o[k];
  }
  return o;
}

export function setPath(obj, key, value) {
  const ks = key.split('.');
  let o = obj;
  for (let i = 0; i < ks.length - 1; i++) {
    if (o[ks[i]] === null || typeof o[ks[i]] !== 'object') o[ks[i]] = {};
    o = o[ks[i]];
  }
  o[ks[ks.length - 1]] = value;
}

function parseList(s) {
  return s.split(/[\s,]+/).map((x) => x.trim()).filter((x) => x !== '');
}

function optionList(opts) {
  return (typeof opts === 'function' ? opts() : opts || []).map((o) => (typeof o === 'object' ? o : { value: o, label: o }));
}

// Builds one input for <f> named <id>, showing <value>.
function makeInput(f, id, value, describedBy) {
  const common = { id, name: f.key, 'aria-describedby': describedBy };
  switch (f.type) {
    case 'select': {
      const sel = h('select', common,
        f.empty !== undefined ? h('option', { value: '' }, f.empty) : null,
        optionList(f.options).map((o) => h('option', { value: o.value }, o.label)));
      const v = value === undefined || value === null ? (f.default !== undefined ? f.default : '') : String(value);
      if (v !== '' && ![...sel.options].some((o) => o.value === v)) sel.appendChild(h('option', { value: v }, v));
      sel.value = v;
      return sel;
    }
    case 'multiselect': {
      const opts = optionList(f.options);
      const want = new Set((Array.isArray(value) ? value : []).map(String));
      for (const v of want) if (!opts.some((o) => o.value === v)) opts.push({ value: v, label: v });
      return h('select', Object.assign(common, { multiple: true, size: Math.min(Math.max(opts.length, 2), 6) }),
        opts.map((o) => h('option', { value: o.value, selected: want.has(String(o.value)) }, o.label)));
    }
    case 'checkbox':
      return h('input', Object.assign(common, { type: 'checkbox', checked: value === undefined || value === null ? !!f.default : !!value }));
    case 'textarea':
      return h('textarea', Object.assign(common, { rows: f.rows || 6, spellcheck: 'false', placeholder: f.placeholder }), value || '');
    case 'list':
      return h('input', Object.assign(common, { type: 'text', value: Array.isArray(value) ? value.join(', ') : value || '', placeholder: f.placeholder, autocomplete: 'off' }));
    case 'number':
      return h('input', Object.assign(common, { type: 'number', inputmode: 'numeric', value: value === undefined || value === null ? '' : value, placeholder: f.placeholder, step: f.step || 1 }));
    default:
      return h('input', Object.assign(common, {
        type: f.type || 'text', value: value === undefined || value === null ? '' : value,
        placeholder: f.placeholder, autocomplete: f.autocomplete || 'off', spellcheck: 'false',
        readonly: f.readonly || false,
      }));
  }
}

function inputValue(f, el) {
  switch (f.type) {
    case 'checkbox':
      return el.checked;
    case 'number': {
      const s = el.value.trim();
      if (s === '') return el.validity && el.validity.badInput ? NaN : undefined;
      return Number(s);
    }
    case 'list': {
      const a = parseList(el.value);
      return a.length ? a : undefined;
    }
    case 'multiselect': {
      const a = [...el.selectedOptions].map((o) => o.value);
      return a.length ? a : undefined;
    }
    case 'select':
      if (el.value === '') return undefined;
      return f.number ? Number(el.value) : el.value;
    default:
      return el.value.trim() === '' ? undefined : (f.type === 'textarea' || f.type === 'password' ? el.value : el.value.trim());
  }
}

// buildForm({fields, values, submitLabel, onSubmit(form), cancel}) -> form API
export function buildForm(opts) {
  const seq = ++formSeq;
  const values = opts.values || {};
  const entries = []; // {f, wrap, input | rows}
  const formErrors = h('div', { class: 'form-errors', role: 'alert', hidden: true });
  const body = h('div', { class: 'fields' });
  const submit = h('button', { type: 'submit', class: 'primary' }, opts.submitLabel || 'Save');
  const form = h('form', { class: 'editor', novalidate: true, 'aria-label': opts.label },
    formErrors, body,
    h('div', { class: 'actions' },
      opts.cancel ? h('button', { type: 'button', class: 'secondary', onclick: opts.cancel }, 'Cancel') : null,
      submit));

  let into = body; // where the next field goes: the form or a folded section
  for (const f of opts.fields) {
    if (f.type === 'section') {
      if (f.fold) {
        const det = h('details', { class: 'fold' }, h('summary', null, f.label));
        body.appendChild(det);
        entries.push({ f, wrap: det });
        into = det;
      } else {
        const sec = h('h3', { class: 'section' }, f.label);
        body.appendChild(sec);
        entries.push({ f, wrap: sec });
        into = body;
      }
      continue;
    }
    const id = `f${seq}-${f.key.replace(/[^A-Za-z0-9]/g, '-')}`;
    const errId = id + '-err', helpId = id + '-help';
    const wrap = h('div', { class: 'field ' + (f.type || 'text'), dataset: { field: f.key } });
    if (f.type === 'rows') {
      const rows = buildRows(f, getPath(values, f.key) || [], id);
      wrap.append(...[h('div', { class: 'label', id: id + '-label' }, f.label), f.help ? h('p', { class: 'help', id: helpId }, f.help) : null, rows.el, h('p', { class: 'field-error', id: errId, hidden: true })].filter(Boolean));
      entries.push({ f, wrap, rows });
    } else {
      const desc = [f.help ? helpId : null, errId].filter(Boolean).join(' ');
      const input = makeInput(f, id, getPath(values, f.key), desc);
      if (f.readonlyOnEdit && opts.mode === 'edit') input.setAttribute('readonly', '');
      const label = h('label', { for: id }, f.label);
      if (f.required) input.setAttribute('aria-required', 'true');
      const star = f.required ? h('span', { class: 'req', title: 'required', 'aria-hidden': 'true' }, '*') : null;
      if (f.type === 'checkbox') wrap.append(h('div', { class: 'check' }, input, label));
      else wrap.append(h('div', { class: 'label-row' }, label, star), input);
      if (f.file) {
        const picker = h('input', { type: 'file', id: id + '-file', class: 'file', accept: f.accept || '', 'aria-label': f.label + ' from a file' });
        picker.addEventListener('change', async () => {
          if (picker.files && picker.files[0]) input.value = await picker.files[0].text();
        });
        wrap.append(h('label', { class: 'file-label', for: id + '-file' }, 'Load from file: '), picker);
      }
      if (f.help) wrap.append(h('p', { class: 'help', id: helpId }, f.help));
      wrap.append(h('p', { class: 'field-error', id: errId, hidden: true }));
      if (f.onchange) input.addEventListener('change', () => f.onchange(api));
      input.addEventListener('change', refresh);
      entries.push({ f, wrap, input });
    }
    into.appendChild(wrap);
  }

  function current() {
    const o = {};
    for (const e of entries) {
      if (e.input) {
        const v = inputValue(e.f, e.input);
        if (v !== undefined) setPath(o, e.f.key, v);
      } else if (e.rows) setPath(o, e.f.key, e.rows.read());
    }
    return o;
  }

  function refresh() {
    const cur = current();
    for (const e of entries) {
      if (e.f.show) e.wrap.hidden = !e.f.show(cur);
    }
  }

  // The body for the API. patch: emptied or hidden fields become null
  // (RFC 7396 removes them); otherwise they are left out.
  function read(patch = false) {
    const o = {};
    for (const e of entries) {
      if (e.f.type === 'section' || e.f.noSend) continue;
      if (e.wrap.hidden) {
        if (patch && getPath(values, e.f.key) !== undefined) setPath(o, e.f.key, null);
        continue;
      }
      let v = e.input ? inputValue(e.f, e.input) : e.rows.read();
      if (e.f.readonlyOnEdit && opts.mode === 'edit') continue;
      if (v === undefined) {
        if (patch && getPath(values, e.f.key) !== undefined) setPath(o, e.f.key, null);
        continue;
      }
      if (Number.isNaN(v)) v = e.input.value; // let the API name it
      setPath(o, e.f.key, v);
    }
    return o;
  }

  // What the served schema says about one field, and whether it is required.
  function fieldSchema(key) {
    const e = entries.find((x) => x.f.key === key);
    if (e && e.f.schema !== undefined) return e.f.schema; // a field's own
    if (!opts.schema) return null;
    return schemaProp(opts.schema, key);
  }
  function schemaRequired(key) {
    if (!opts.schema || key.includes('.')) return false;
    const c = schemaProp(opts.schema, '');
    return !!(c && Array.isArray(c.required) && c.required.includes(key));
  }

  // The problems the schema lets the browser see: [{field, message}].
  function validate() {
    const out = [];
    for (const e of entries) {
      if (e.f.type === 'section' || e.wrap.hidden) continue;
      if (e.f.readonlyOnEdit && opts.mode === 'edit') continue;
      if (e.rows) {
        const items = schemaItems(fieldSchema(e.f.key));
        const req = (items && items.required) || [];
        e.rows.read().forEach((row, i) => {
          for (const c of e.f.columns) {
            const sch = items && items.properties ? items.properties[c.key] : null;
            const m = checkValue(c, row[c.key], sch, req.includes(c.key));
            if (m) out.push({ field: `${e.f.key}[${i}].${c.key}`, message: m });
          }
        });
        continue;
      }
      if (e.f.noSend) {
        if (e.f.required && inputValue(e.f, e.input) === undefined) out.push({ field: e.f.key, message: 'required' });
        continue;
      }
      const required = e.f.required !== undefined ? !!e.f.required : schemaRequired(e.f.key);
      const v = inputValue(e.f, e.input);
      // a field's own check (f.check(value) -> message or null) after the schema's
      const m = checkValue(e.f, v, fieldSchema(e.f.key), required) || (e.f.check && v !== undefined ? e.f.check(v) : null);
      if (m) out.push({ field: e.f.key, message: m });
    }
    return out;
  }

  function clearErrors() {
    formErrors.hidden = true;
    clear(formErrors);
    for (const el of form.querySelectorAll('.field-error')) {
      el.hidden = true;
      el.textContent = '';
    }
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  }

  // Finds the element for an API field path: exact, then without the
  // trailing index, then its parents ("match.hosts[1]" -> "match.hosts").
  function target(path) {
    let p = (opts.aliases && opts.aliases[path]) || path;
    for (let i = 0; i < 8 && p; i++) {
      const w = form.querySelector(`[data-field="${CSS.escape(p)}"]`);
      if (w && !w.hidden) return w;
      const m = p.match(/^(.*)(\[[^\]]*\]|\.[^.[\]]+)$/);
      if (!m) break;
      p = m[1];
    }
    return null;
  }

  // Shows an ApiError: field errors next to their field, the rest on top.
  function showError(err) {
    clearErrors();
    const loose = [];
    let first = null;
    const strip = opts.errorPrefix || [];
    for (const fe of err.fieldErrors || []) {
      let field = String(fe.field || '');
      for (const pre of strip) {
        const re = new RegExp('^' + pre + '\\[[^\\]]*\\]\\.?');
        field = field.replace(re, '');
      }
      const w = field ? target(field) : null;
      if (w) for (let d = w.closest('details'); d; d = d.parentElement.closest('details')) d.open = true;
      if (!w) {
        loose.push((fe.field ? fe.field + ': ' : '') + fe.message);
        continue;
      }
      // a row cell has its own error slot; otherwise the field's
      const slot = w.querySelector(':scope > .field-error, :scope > .cell-error') || w.querySelector('.field-error');
      slot.hidden = false;
      slot.textContent = slot.textContent ? slot.textContent + '; ' + fe.message : fe.message;
      const input = w.querySelector('input, select, textarea');
      if (input) {
        input.setAttribute('aria-invalid', 'true');
        if (!first) first = input;
      }
    }
    if (loose.length || !(err.fieldErrors || []).length) {
      formErrors.hidden = false;
      formErrors.append(h('strong', null, err.message || 'The change was refused.'));
      if (loose.length) formErrors.append(h('ul', null, loose.map((m) => h('li', null, m))));
      if (!first) first = formErrors;
    }
    if (first) {
      if (first === formErrors) formErrors.setAttribute('tabindex', '-1');
      first.focus();
    }
  }

  const api = { el: form, read, current, showError, clearErrors, refresh, validate, values, entries };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors();
    const problems = validate();
    if (problems.length) {
      showError({ message: 'Some fields need attention.', fieldErrors: problems });
      return;
    }
    submit.disabled = true;
    try {
      await opts.onSubmit(api);
    } catch (err) {
      if (err && err.fieldErrors) showError(err);
      else throw err;
    } finally {
      submit.disabled = false;
    }
  });
  refresh();
  return api;
}

// One value against its field and schema: a message, or null when fine.
export function checkValue(f, v, sch, required) {
  if (v === undefined || v === '' || (Array.isArray(v) && !v.length)) {
    if (!required || f.type === 'checkbox') return null;
    return f.type === 'select' || f.type === 'multiselect' ? 'choose one' : 'required';
  }
  if (!sch) return Number.isNaN(v) ? 'not a number' : null;
  const types = Array.isArray(sch.type) ? sch.type : [sch.type];
  if (types.includes('integer') || types.includes('number')) {
    const n = typeof v === 'number' ? v : Number(v);
    if (Number.isNaN(n) || typeof v === 'boolean') return 'not a number';
    if (types.includes('integer') && !types.includes('number') && !Number.isInteger(n)) return 'a whole number';
    const lo = sch.minimum, hi = sch.maximum;
    const big = (x) => x === undefined || Math.abs(x) >= 2 ** 53;
    if ((lo !== undefined && n < lo) || (hi !== undefined && n > hi)) {
      if (!big(lo) && !big(hi)) return `must be between ${lo} and ${hi}`;
      return big(hi) ? `must be at least ${lo}` : `must be at most ${hi}`;
    }
    return null;
  }
  if (types.includes('array') && Array.isArray(v)) {
    if (sch.maxItems !== undefined && v.length > sch.maxItems) return `at most ${sch.maxItems} items`;
    const it = schemaItems(sch);
    for (const x of v) {
      const m = it ? checkString(x, it) : null;
      if (m) return m;
    }
    return null;
  }
  if (typeof v === 'string') return checkString(v, sch);
  return null;
}

function checkString(v, sch) {
  if (sch.minLength !== undefined && v.length < sch.minLength) return `at least ${sch.minLength} characters`;
  if (sch.maxLength !== undefined && v.length > sch.maxLength) return `at most ${sch.maxLength} characters`;
  if (Array.isArray(sch.enum) && !sch.enum.includes(v)) return `"${v}": one of ${sch.enum.join(', ')}`;
  if (sch.pattern) {
    let re = null;
    try {
      re = new RegExp(sch.pattern);
    } catch {
      re = null; // a pattern this browser cannot read: the API checks it
    }
    if (re && !re.test(v)) return `"${v}" is not in the expected form`;
  }
  return null;
}

// An array of objects edited as rows: [{address, port, weight}, ...].
function buildRows(f, items, idBase) {
  const tbody = h('tbody');
  const list = [];
  const el = h('div', { class: 'rows' },
    h('table', { 'aria-labelledby': idBase + '-label' },
      h('thead', null, h('tr', null, f.columns.map((c) => h('th', { scope: 'col' }, c.label)), h('th', null, h('span', { class: 'sr-only' }, 'Remove')))),
      tbody),
    h('button', { type: 'button', class: 'secondary small', onclick: () => add({ ...(f.newRow || {}) }, true) }, f.addLabel || 'Add row'));
  let n = 0;
  function add(item, focus) {
    const i = n++;
    const row = { item, inputs: [] };
    const tr = h('tr');
    for (const c of f.columns) {
      const id = `${idBase}-${i}-${c.key}`;
      const input = makeInput(Object.assign({}, c, { key: c.key }), id, item[c.key], id + '-err');
      input.setAttribute('aria-label', `${c.label}, row ${list.length + 1}`);
      row.inputs.push({ c, input, td: h('td', { class: 'cell', 'data-label': c.label }, input, h('p', { class: 'field-error cell-error', id: id + '-err', hidden: true })) });
      tr.appendChild(row.inputs[row.inputs.length - 1].td);
    }
    const rm = h('button', { type: 'button', class: 'icon', 'aria-label': 'Remove row', title: 'Remove', onclick: () => {
      if (list.length <= (f.min || 0)) return;
      list.splice(list.indexOf(row), 1);
      tr.remove();
      renumber();
    } }, '×');
    tr.appendChild(h('td', null, rm));
    row.tr = tr;
    list.push(row);
    tbody.appendChild(tr);
    renumber();
    if (focus) row.inputs[0].input.focus();
  }
  function renumber() {
    list.forEach((row, idx) => {
      for (const x of row.inputs) x.td.dataset.field = `${f.key}[${idx}].${x.c.key}`;
    });
  }
  function read() {
    return list.map((row) => {
      const o = {};
      if (row.item.id !== undefined) {
        // keep the server id while address and port are unchanged, and
        // its fields that have no column here (limits, slow start)
        const a = row.inputs.find((x) => x.c.key === 'address'), p = row.inputs.find((x) => x.c.key === 'port');
        if (a && p && a.input.value.trim() === String(row.item.address) && Number(p.input.value) === row.item.port) {
          for (const [k, v] of Object.entries(row.item)) if (!f.columns.some((c) => c.key === k)) o[k] = v;
          o.id = row.item.id;
        }
      }
      for (const x of row.inputs) {
        let v = inputValue(x.c, x.input);
        if (Number.isNaN(v)) v = x.input.value;
        if (v !== undefined) o[x.c.key] = v;
      }
      return o;
    });
  }
  if (!items.length) items = [{ ...(f.newRow || {}) }];
  for (const it of items) add(it, false);
  return { el, read };
}
