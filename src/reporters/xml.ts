// A minimal XML writer for the JUnit report: elements with attributes, escaped text, nothing else.
// Text is escaped rather than put in CDATA, so no content can end a section early.

export interface XmlElement {
  name: string
  attributes?: Array<[name: string, value: string | number | undefined]>
  children?: XmlElement[]
  /** Text content (escaped); an element has either text or children. */
  text?: string
}

export function el(name: string, attributes: XmlElement['attributes'] = [], children: XmlElement[] = []): XmlElement {
  return { name, attributes, children }
}

export function textEl(name: string, text: string, attributes: XmlElement['attributes'] = []): XmlElement {
  return { name, attributes, text }
}

export function renderXml(root: XmlElement): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>']
  write(root, 0, lines)
  return `${lines.join('\n')}\n`
}

function write(node: XmlElement, depth: number, out: string[]): void {
  const indent = '  '.repeat(depth)
  const attributes = (node.attributes ?? [])
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => ` ${name}="${escapeAttribute(String(value))}"`)
    .join('')
  const open = `${indent}<${node.name}${attributes}`
  if (node.text !== undefined && node.text !== '') {
    out.push(`${open}>${escapeText(node.text)}</${node.name}>`)
  } else if (node.children && node.children.length > 0) {
    out.push(`${open}>`)
    for (const child of node.children) write(child, depth + 1, out)
    out.push(`${indent}</${node.name}>`)
  } else {
    out.push(`${open}/>`)
  }
}

export function escapeText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}

// newlines and tabs as character references: a parser would otherwise normalise them to spaces
export function escapeAttribute(text: string): string {
  return escapeText(text).replaceAll('"', '&quot;').replaceAll('\n', '&#10;').replaceAll('\t', '&#9;').replaceAll('\r', '&#13;')
}
