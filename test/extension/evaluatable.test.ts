import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatableAt } from '../../src/extension/evaluatable';

test('a debug hover on a memory operand evaluates the whole operand with its size', () => {
  const line = '    mov rax, qword [rbp - 8]    ; load';
  assert.deepEqual(evaluatableAt(line, line.indexOf('rbp')), { start: line.indexOf('qword'), end: line.indexOf(']') + 1, expression: 'qword [rbp - 8]' });
  const b = '    cmp byte [rsi+rcx], 0';
  assert.equal(evaluatableAt(b, b.indexOf('rcx'))?.expression, 'byte [rsi+rcx]');
  const rel = '    mov eax, [rel counter]';
  assert.equal(evaluatableAt(rel, rel.indexOf('counter'))?.expression, 'qword [counter]', 'rel is an addressing mode, not part of the address');
});

test('elsewhere it is the register, symbol or label under the cursor', () => {
  const line = '    mov rax, counter';
  assert.deepEqual(evaluatableAt(line, line.indexOf('rax') + 1), { start: line.indexOf('rax'), end: line.indexOf('rax') + 3, expression: 'rax' });
  assert.equal(evaluatableAt(line, line.indexOf('counter') + 2)?.expression, 'counter');
  const after = '    mov [rdi], al';
  assert.equal(evaluatableAt(after, after.indexOf('al'))?.expression, 'al', 'a word after a bracket pair is not inside it');
  assert.equal(evaluatableAt('    nop ; rax here', 12), undefined, 'comments are not evaluated');
  assert.equal(evaluatableAt('', 0), undefined);
});
