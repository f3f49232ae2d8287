#!/usr/bin/env node
// A to-do list MCP server over stdio. The gateway runs one process per conversation, so the list
// below lives exactly as long as one phone call. Usage: node demo/todo-server.js [--max-items N]
import { parseArgs } from 'node:util';
import { McpServer } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import * as z from 'zod';

let maxItems;
try {
  const { values } = parseArgs({ options: { 'max-items': { type: 'string', default: '100' } } });
  maxItems = Number(values['max-items']);
  if (!Number.isInteger(maxItems) || maxItems < 1) {
    throw new Error(`--max-items must be a positive integer, got '${values['max-items']}'`);
  }
} catch (error) {
  console.error(`todo-server: ${error.message}`);
  process.exit(2);
}

// Module scope, not inside the factory: serveStdio may build a throw-away instance for an
// era probe before the one that serves the conversation.
const todos = [];
let nextId = 1;

const reply = (message) => ({ content: [{ type: 'text', text: message }] });
const failure = (message) => ({ ...reply(message), isError: true });
const notFound = (id) => failure(`There is no todo #${id}. Call list_todos to see the current ids.`);
const render = (todo) => `#${todo.id} [${todo.completed ? 'x' : ' '}] ${todo.text} (${todo.priority})`;

const Priority = z.enum(['low', 'medium', 'high']);
const Todo = z.object({
  id: z.number().int(),
  text: z.string(),
  priority: Priority,
  completed: z.boolean(),
});
const TodoId = z.object({
  id: z.number().int().positive().describe('The number of the todo, as shown by list_todos (e.g. 3 for "#3").'),
});

function createServer() {
  const server = new McpServer({ name: 'todo', version: '1.0.0' });

  server.registerTool('add_todo', {
    description: 'Add an item to the caller\'s to-do list. Returns the number of the new todo.',
    inputSchema: z.object({
      text: z.string().trim().min(1).max(500).describe('What needs to be done, in a few words, e.g. "buy milk".'),
      priority: Priority.optional()
        .describe('How important the item is. Use "medium" when the caller does not say.'),
    }),
  }, ({ text, priority = 'medium' }) => {
    if (todos.length >= maxItems) return failure(`Todo list is full (${maxItems} items)`);
    const todo = { id: nextId++, text, priority, completed: false };
    todos.push(todo);
    return reply(`Added todo #${todo.id}: ${todo.text}`);
  });

  server.registerTool('list_todos', {
    description: 'List the items on the caller\'s to-do list, one per line as "#<id> [x] <text> (<priority>)"; [x] means completed, [ ] pending.',
    inputSchema: z.object({
      status: z.enum(['all', 'pending', 'completed']).optional()
        .describe('Which items to list: "pending" (not done yet), "completed", or "all" (the default).'),
    }),
    outputSchema: z.object({ todos: z.array(Todo) }),
    annotations: { readOnlyHint: true },
  }, ({ status = 'all' }) => {
    const shown = todos.filter((t) => status === 'all' || t.completed === (status === 'completed'));
    const empty = status === 'all' ? 'No todos.' : `No ${status} todos.`;
    return {
      ...reply(shown.length === 0 ? empty : shown.map(render).join('\n')),
      structuredContent: { todos: shown },
    };
  });

  server.registerTool('complete_todo', {
    description: 'Mark a todo as done. It stays on the list (shown with [x]) until deleted or cleared.',
    inputSchema: TodoId,
    annotations: { idempotentHint: true, destructiveHint: false },
  }, ({ id }) => {
    const todo = todos.find((t) => t.id === id);
    if (!todo) return notFound(id);
    todo.completed = true;
    return reply(`Completed todo #${id}: ${todo.text}`);
  });

  server.registerTool('delete_todo', {
    description: 'Remove one todo from the list for good. Other todos keep their numbers.',
    inputSchema: TodoId,
    annotations: { destructiveHint: true },
  }, ({ id }) => {
    const index = todos.findIndex((t) => t.id === id);
    if (index === -1) return notFound(id);
    const [todo] = todos.splice(index, 1);
    return reply(`Deleted todo #${id}: ${todo.text}`);
  });

  server.registerTool('clear_todos', {
    description: 'Remove every todo from the list. Only use this when the caller clearly asks to start over.',
    inputSchema: z.object({}),
    annotations: { destructiveHint: true, idempotentHint: true },
  }, () => {
    const count = todos.splice(0).length;
    return reply(count === 0 ? 'The list was already empty.' : `Cleared ${count} todo${count === 1 ? '' : 's'}.`);
  });

  return server;
}

serveStdio(createServer, { onerror: (error) => console.error(`todo-server: ${error.message}`) });
