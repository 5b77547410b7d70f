/**
 * jupyterlab-sled-kv: registers the sled-kv language (mime type
 * `text/x-sled-kv`, the one sled-kernel's `language_info` names) with
 * JupyterLab's editor language registry, so notebook cells, consoles,
 * `.sledkv` files and ```sled-kv blocks in Markdown are highlighted.
 *
 * The kernel advertises `codemirror_mode: {name: "sled-kv", mime: "text/x-sh"}`:
 * JupyterLab looks the name up first and finds this language; a JupyterLab
 * without this extension finds no such name and falls back to the shell mode.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IEditorLanguageRegistry } from '@jupyterlab/codemirror';

import { sledKv } from './language';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-sled-kv:language',
  description: 'The sled-kv language for sled-kernel cells, with Rust in %%rust cells.',
  autoStart: true,
  requires: [IEditorLanguageRegistry],
  activate: (_app: JupyterFrontEnd, languages: IEditorLanguageRegistry): void => {
    languages.addLanguage({
      name: 'sled-kv',
      displayName: 'sled KV',
      alias: ['sledkv'],
      mime: 'text/x-sled-kv',
      extensions: ['sledkv'],
      load: async () => {
        // %%rust cells nest the Rust language JupyterLab already has
        // (@codemirror/lang-rust); should it be missing, they stay plain.
        let rust = null;
        try {
          rust = (await languages.getLanguage('rust'))?.support?.language ?? null;
        } catch (reason) {
          console.warn('jupyterlab-sled-kv: no Rust language for %%rust cells', reason);
        }
        return sledKv(rust);
      }
    });
  }
};

export default plugin;
