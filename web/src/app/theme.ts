// Light / dark theme: the class on <html> (set before paint by /theme.js), saved per browser.
import { useState } from 'react';

export type Theme = 'light' | 'dark';
export const themeNow = (): Theme => (document.documentElement.classList.contains('dark') ? 'dark' : 'light');

export function applyTheme(t: Theme) {
  document.documentElement.classList.toggle('dark', t === 'dark');
  localStorage.setItem('opsbase.theme', t);
}

export function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(themeNow);
  return [
    theme,
    () => {
      const next = theme === 'dark' ? 'light' : 'dark';
      applyTheme(next);
      setTheme(next);
    },
  ];
}
