import { en, type Messages } from './en.js';

export const it: Messages = { ...en };
